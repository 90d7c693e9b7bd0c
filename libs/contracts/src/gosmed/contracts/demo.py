"""The demo people `make run` seeds, shared so identity's accounts and the clinic simulator's
records describe the same citizens. Not used outside demo seeding and tests."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from gosmed.contracts.types import snils_check_digits


@dataclass(frozen=True)
class DemoPerson:
    key: str
    full_name: str
    birth_date: date
    snils: str
    oms_policy: str
    phone: str | None
    email: str | None
    password: str | None
    totp_secret: str | None
    confirmed: bool = True
    organization: str | None = None
    city: str = "Москва"
    inn: str | None = None


PATIENT = DemoPerson(
    "patient",
    "Иванова Анна Сергеевна",
    date(1985, 4, 12),
    "11223344595",
    "7700000000000001",
    "+79161000001",
    "anna.ivanova@example.ru",
    "Demo-Patient-2026",
    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    inn="770123456703",
)
PARENT = DemoPerson(
    "parent",
    "Петров Сергей Иванович",
    date(1980, 9, 3),
    "12345678964",
    "7700000000000002",
    "+79161000002",
    "sergey.petrov@example.ru",
    "Demo-Parent-2026",
    "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
)
CHILD_UNDER_15 = DemoPerson(
    "child10",
    "Петров Михаил Сергеевич",
    date(2016, 3, 1),
    "23456789100",
    "7700000000000003",
    None,
    None,
    None,
    None,
)
CHILD_OVER_15 = DemoPerson(
    "child16",
    "Петрова Мария Сергеевна",
    date(2010, 5, 20),
    "34567891226",
    "7700000000000004",
    "+79161000004",
    "maria.petrova@example.ru",
    "Demo-Teen-2026",
    "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
)
REPRESENTATIVE = DemoPerson(
    "representative",
    "Смирнова Ольга Петровна",
    date(1975, 1, 15),
    "45678912344",
    "7700000000000005",
    "+79161000005",
    "olga.smirnova@example.ru",
    "Demo-Agent-2026",
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
)
INSURER = DemoPerson(
    "insurer",
    "Кузнецов Андрей Викторович",
    date(1982, 6, 30),
    "56789123453",
    "7700000000000006",
    "+79161000006",
    "insurer@example.ru",
    "Demo-Insurer-2026",
    "ONSWG4TFORZXIZLTONSWG4TFORZXIZLT",
    organization="АО «Страховая компания»",
)
INSPECTOR = DemoPerson(
    "inspector",
    "Соколова Елена Дмитриевна",
    date(1979, 11, 11),
    "67891234553",
    "7700000000000007",
    "+79161000007",
    "inspector@example.ru",
    "Demo-Inspector-2026",
    "NBSWY3DPO5XXE3DEMFZWK4TJNZTWK3TT",
    organization="Росздравнадзор",
)
OPERATOR = DemoPerson(
    "operator",
    "Оператор портала",
    date(1990, 2, 2),
    "78912345644",
    "7700000000000008",
    "+79161000008",
    "operator@example.ru",
    "Demo-Operator-2026",
    "MZXW6YTBOJUWU23MNV2GCZ3LMFZWS3LE",
)

DOCTOR = DemoPerson(
    "doctor",
    "Семенов Максим Михайлович",
    date(1978, 6, 21),
    "90123456764",
    "7700000000000011",
    "+79161000011",
    "m.semenov@example.ru",
    "Demo-Doctor-2026",
    "QPGVBYTKTGD3AY232RDPCSLPMPS2VLSK",
)
DOCTOR_SPECIALIST_ID = UUID("81a42923-e5cf-5efd-917e-d008ebd0ad3b")
"""The registry demo's specialist (a therapist of «Семейный доктор», Moscow) the demo doctor's
account is linked to."""

UNCONFIRMED = DemoPerson(
    "unconfirmed",
    "Новиков Игорь Павлович",
    date(1992, 8, 8),
    "89123456726",
    "7700000000000009",
    "+79161000009",
    "igor.novikov@example.ru",
    "Demo-Unconfirmed-2026",
    "KVKFKRCPNZQUYMLXOVYDSQKJKZDTSRLD",
    confirmed=False,
)
CLINIC_STAFF = DemoPerson(
    "clinic_staff",
    "Морозова Татьяна Николаевна",
    date(1988, 3, 14),
    "91234567800",
    "7700000000000010",
    "+79161000010",
    "t.morozova@gp7.example.ru",
    "Demo-Staff-2026",
    "JVXXE332N53GCU3UMFTGMR2QG5CGK3LP",
)

STAFF_ORGANIZATION_ID = UUID("6525844a-f8ea-5b3e-9a24-69beea9ae5e8")
"""«ГП № 7», the first Moscow clinic of the registry's demo data set: the demo clinic with a
corporate account, whose power of attorney authorises `CLINIC_STAFF`."""

PEOPLE = (
    PATIENT,
    PARENT,
    CHILD_UNDER_15,
    CHILD_OVER_15,
    REPRESENTATIVE,
    INSURER,
    INSPECTOR,
    OPERATOR,
    DOCTOR,
    UNCONFIRMED,
    CLINIC_STAFF,
)
PATIENTS_WITH_HISTORY = (PATIENT, CHILD_UNDER_15, CHILD_OVER_15)

EXTRA_CITIZEN_PASSWORD = "Demo-Citizen-2026"  # noqa: S105 (demo data)
MAX_EXTRA_CITIZENS = 9999
EXTRA_SNILS_BASE = 900_000_000


def extra_citizen(n: int) -> DemoPerson:
    """The `n`-th (from 1) extra demo citizen, the same on every start: confirmed, with a phone,
    the shared password and an authenticator app (`GOSMED_IDENTITY_DEMO_CITIZENS` seeds them
    for tests and benchmarks that need many different patients)."""
    if not 1 <= n <= MAX_EXTRA_CITIZENS:
        raise ValueError(f"extra demo citizens are numbered 1..{MAX_EXTRA_CITIZENS}")
    first_nine = str(EXTRA_SNILS_BASE + n)
    secret = base64.b32encode(hashlib.sha256(f"gosmed-demo-citizen-{n}".encode()).digest()[:20])
    return DemoPerson(
        f"citizen{n}",
        f"Гражданин Тестовый {n}",
        date(1970, 1, 1) + timedelta(days=n * 97),
        first_nine + snils_check_digits(first_nine),
        f"77009{n:011d}",
        f"+7916200{n:04d}",
        f"citizen{n}@example.ru",
        EXTRA_CITIZEN_PASSWORD,
        secret.decode(),
    )


def extra_citizens(count: int) -> tuple[DemoPerson, ...]:
    """The first `count` extra demo citizens."""
    return tuple(extra_citizen(n) for n in range(1, count + 1))
