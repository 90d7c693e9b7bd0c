"""The registry's deterministic demo data set (fixed seed, uuid5 ids), seeded at start when
`settings.demo_data` is true.

Other services' demo data reference it by importing this module: `organizations()`,
`specialists()`, `nomenclature()` and `tariffs()` return the same values in every process, and
`organization_id(ogrn)` / `specialist_id(ogrn, n)` derive the ids.
"""

import csv
import io
import random
import uuid
from datetime import UTC, date, datetime, time
from functools import cache
from importlib import resources

from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from gosmed.contracts.registry.catalog import MedicalService, ServiceCategory
from gosmed.contracts.registry.organizations import (
    Address,
    Department,
    ExceptionDay,
    License,
    OpeningHours,
    OrganizationCard,
    WeekdayHours,
    WorkingHours,
)
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.contracts.registry.specialties import SPECIALTY_TITLES, Specialty
from gosmed.contracts.registry.tariffs import NormativeDocument, Tariff
from gosmed.registry import demo_tables as tables

NAMESPACE = uuid.UUID("6f1b2c1e-4d0a-5b7e-9c3f-2a8d4e6b0c11")
SEED = 20260401
UPDATED_AT = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ORGANIZATIONS_PER_CITY = 7
SPECIALISTS = 500
TARIFF_YEARS = (2025, 2026)
LISTED_SERVICES_FILE = "demo_nomenclature.csv"
# Regional coefficients of the OMS tariff agreements.
REGION_COEFFICIENTS = {
    "77": 1.45,
    "78": 1.3,
    "50": 1.25,
    "16": 1.0,
    "66": 1.1,
    "54": 1.05,
    "52": 1.0,
    "23": 0.95,
}

POLYCLINIC_HOURS = (
    *(WeekdayHours(weekday=d, opens=time(8), closes=time(20)) for d in range(1, 6)),
    WeekdayHours(weekday=6, opens=time(9), closes=time(15)),
)
ROUND_THE_CLOCK = tuple(
    WeekdayHours(weekday=d, opens=time(0), closes=time(23, 59, 59)) for d in range(1, 8)
)
PRIVATE_HOURS = tuple(WeekdayHours(weekday=d, opens=time(9), closes=time(21)) for d in range(1, 8))


def organization_id(ogrn: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"organization:{ogrn}")


def specialist_id(ogrn: str, number: int) -> uuid.UUID:
    """The `number`-th specialist of the organization with `ogrn`."""
    return uuid.uuid5(NAMESPACE, f"specialist:{ogrn}:{number}")


def department_id(ogrn: str, specialty: Specialty) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"department:{ogrn}:{specialty.value}")


def _company_inn(rng: random.Random, region_code: str) -> str:
    first_nine = f"{region_code}{rng.randint(1, 45):02d}{rng.randint(0, 99999):05d}"
    return first_nine + stdnum_inn.calc_company_check_digit(first_nine)


def _company_ogrn(rng: random.Random, region_code: str) -> str:
    first_twelve = f"1{rng.randint(2, 15):02d}{region_code}{rng.randint(0, 9_999_999):07d}"
    return first_twelve + stdnum_ogrn.calc_check_digit(first_twelve + "0")


def _phone(rng: random.Random, city: tables.City) -> str:
    number = f"{rng.randint(200, 799)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    return f"+7 ({city.phone_code}) {number}"


def _license_number(rng: random.Random, city: tables.City) -> str:
    return f"Л041-{rng.randint(10000, 99999)}-{city.region_code}/{rng.randint(10**7, 10**8 - 1)}"


def _postal_code(rng: random.Random, city: tables.City) -> str:
    free_digits = 6 - len(city.postal_prefix)
    return f"{city.postal_prefix}{rng.randrange(10**free_digits):0{free_digits}d}"


def _hours(kind: int, city: tables.City) -> WorkingHours:
    if tables.ORGANIZATION_KINDS[kind][2] == "ООО":
        return WorkingHours(
            timezone=city.timezone, weekly=PRIVATE_HOURS, works_on_public_holidays=True
        )
    if "больница" in tables.ORGANIZATION_KINDS[kind][0]:
        return WorkingHours(
            timezone=city.timezone, weekly=ROUND_THE_CLOCK, works_on_public_holidays=True
        )
    short_day = ExceptionDay(
        day=date(2026, 12, 30),
        hours=OpeningHours(opens=time(8), closes=time(16)),
        note="Предпраздничный день",
    )
    duty_day = ExceptionDay(
        day=date(2027, 1, 4),
        hours=OpeningHours(opens=time(9), closes=time(15)),
        note="Дежурный день в новогодние праздники",
    )
    return WorkingHours(
        timezone=city.timezone, weekly=POLYCLINIC_HOURS, exceptions=(short_day, duty_day)
    )


@cache
def organizations() -> tuple[OrganizationCard, ...]:
    """56 organizations, seven in each of eight regions."""
    rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
    cards: list[OrganizationCard] = []
    kinds = (0, 0, 1, 2, 3, 4, 5)
    for city in tables.CITIES:
        for position, kind in enumerate(kinds):
            full_pattern, short_pattern, legal_form, specializations = tables.ORGANIZATION_KINDS[
                kind
            ]
            number = rng.randint(1, 220)
            brand = tables.PRIVATE_BRANDS[(len(cards) + position) % len(tables.PRIVATE_BRANDS)]
            inn = _company_inn(rng, city.region_code)
            ogrn = _company_ogrn(rng, city.region_code)
            cards.append(
                OrganizationCard(
                    id=organization_id(ogrn),
                    full_name=full_pattern.format(n=number, brand=brand),
                    short_name=short_pattern.format(n=number, brand=brand),
                    inn=inn,
                    kpp=f"{inn[:4]}01001",
                    ogrn=ogrn,
                    legal_form=legal_form,
                    address=Address(
                        postal_code=_postal_code(rng, city),
                        region=city.region,
                        region_code=city.region_code,
                        city=city.city,
                        street=rng.choice(city.streets),
                        house=str(rng.randint(1, 120)),
                        building=str(rng.randint(1, 4)) if rng.random() < 0.3 else None,
                        latitude=round(city.latitude + rng.uniform(-0.08, 0.08), 6),
                        longitude=round(city.longitude + rng.uniform(-0.12, 0.12), 6),
                    ),
                    phones=(_phone(rng, city), _phone(rng, city)),
                    email=f"info{len(cards) + 1}@clinic{city.region_code}.example.ru",
                    website=f"https://clinic{len(cards) + 1}.example.ru",
                    licenses=(
                        License(
                            number=_license_number(rng, city),
                            issued_on=date(
                                rng.randint(2012, 2022), rng.randint(1, 12), rng.randint(1, 28)
                            ),
                            activities=tuple(SPECIALTY_TITLES[s] for s in specializations),
                        ),
                    ),
                    specializations=specializations,
                    working_hours=_hours(kind, city),
                    departments=tuple(
                        Department(id=department_id(ogrn, s), name=tables.DEPARTMENT_NAMES[s])
                        for s in specializations
                    ),
                    updated_at=UPDATED_AT,
                )
            )
    return tuple(cards)


def _full_name(rng: random.Random) -> str:
    surname = rng.choice(tables.MALE_SURNAMES)
    root = rng.choice(tables.PATRONYMIC_ROOTS)
    if rng.random() < 0.6:
        return f"{surname}а {rng.choice(tables.FEMALE_NAMES)} {root}на"
    return f"{surname} {rng.choice(tables.MALE_NAMES)} {root}ич"


@cache
def specialists() -> tuple[SpecialistCard, ...]:
    """500 specialists spread over the organizations, each in a department of their specialty."""
    rng = random.Random(SEED + 1)  # noqa: S311 (demo data, not secrets)
    orgs = organizations()
    cards = []
    for number in range(SPECIALISTS):
        org = orgs[number % len(orgs)]
        specialty = rng.choice(org.specializations)
        reviews = rng.randint(0, 120)
        cards.append(
            SpecialistCard(
                id=specialist_id(org.ogrn, number // len(orgs)),
                full_name=_full_name(rng),
                specialty=specialty,
                organization_id=org.id,
                department_id=department_id(org.ogrn, specialty),
                certificate_number=f"{rng.randint(1000, 9999)} {rng.randint(10**8, 10**9 - 1)}",
                certificate_valid_until=date(
                    rng.randint(2026, 2030), rng.randint(1, 12), rng.randint(1, 28)
                ),
                work_phone=org.phones[0],
                work_email=f"doctor{number + 1}@{org.email.split('@')[1]}" if org.email else None,
                rating=round(rng.uniform(3.6, 5.0), 2) if reviews else None,
                reviews_count=reviews,
                updated_at=UPDATED_AT,
            )
        )
    return tuple(cards)


def _listed_services() -> list[tuple[str, str, ServiceCategory]]:
    text = resources.files(__package__).joinpath(LISTED_SERVICES_FILE).read_text("utf-8")
    return [
        (row["code"], row["name"], ServiceCategory(row["category"]))
        for row in csv.DictReader(io.StringIO(text))
    ]


@cache
def nomenclature() -> tuple[MedicalService, ...]:
    """Visits of every visiting specialty (first, repeat, dispensary, preventive, ward rounds)
    plus the listed laboratory, imaging, surgery, prevention, rehabilitation, dental and paid
    services, ordered by code."""
    entries: dict[str, tuple[str, ServiceCategory]] = {}
    for specialty, (number, genitive, instrumental) in tables.VISITING_SPECIALTIES.items():
        dental = specialty in tables.DENTAL_SPECIALTIES
        visit = ServiceCategory.DENTISTRY if dental else ServiceCategory.OUTPATIENT_VISIT
        entries[f"B01.{number}.001"] = (f"Прием (осмотр, консультация) {genitive} первичный", visit)
        entries[f"B01.{number}.002"] = (f"Прием (осмотр, консультация) {genitive} повторный", visit)
        entries[f"B04.{number}.001"] = (
            f"Диспансерный прием (осмотр, консультация) {genitive}",
            ServiceCategory.PREVENTION,
        )
        entries[f"B04.{number}.002"] = (
            f"Профилактический прием (осмотр, консультация) {genitive}",
            ServiceCategory.PREVENTION,
        )
        if specialty in tables.WARD_SPECIALTIES:
            entries[f"B01.{number}.005"] = (
                f"Ежедневный осмотр {instrumental} с наблюдением и уходом среднего и младшего "
                "медицинского персонала в отделении стационара",
                ServiceCategory.INPATIENT,
            )
    for code, name, category in _listed_services():
        if code in entries:
            raise ValueError(f"demo nomenclature code {code} is listed twice")
        entries[code] = (name, category)
    return tuple(
        MedicalService(code=code, name=name, category=category, updated_at=UPDATED_AT)
        for code, (name, category) in sorted(entries.items())
    )


def _agreement(region: tables.City, year: int) -> NormativeDocument:
    return NormativeDocument(
        title="Тарифное соглашение в сфере обязательного медицинского страхования "
        f"({region.region}) на {year} год",
        number=f"{region.region_code}-ТС/{year}",
        date=date(year - 1, 12, 27),
        url=f"https://tfoms{region.region_code}.example.ru/documents/tariff-agreement-{year}.pdf",
    )


def _price(service: MedicalService, coefficient: float, year: int) -> int:
    """A deterministic price: the category's base, a spread by code, indexed yearly."""
    spread = 0.6 + (sum(ord(c) for c in service.code) % 17) / 10
    indexation = 1.0 if year == TARIFF_YEARS[0] else 1.087
    return (
        round(tables.BASE_PRICES[service.category] * spread * coefficient * indexation / 100) * 100
    )


@cache
def tariffs() -> tuple[Tariff, ...]:
    """OMS tariffs of every free service in every region for 2025 and 2026 (the latter
    open-ended), and the price lists of the private organizations for paid services."""
    result = []
    services = nomenclature()
    for region in tables.CITIES:
        coefficient = REGION_COEFFICIENTS[region.region_code]
        for year in TARIFF_YEARS:
            document = _agreement(region, year)
            for service in services:
                if service.category is ServiceCategory.PAID:
                    continue
                result.append(
                    Tariff(
                        service_code=service.code,
                        price=_price(service, coefficient, year),
                        effective_from=date(year, 1, 1),
                        effective_to=date(year, 12, 31) if year != TARIFF_YEARS[-1] else None,
                        region_code=region.region_code,
                        document=document,
                        updated_at=UPDATED_AT,
                    )
                )
    for org in organizations():
        if org.legal_form != "ООО":
            continue
        price_list = NormativeDocument(
            title=f"Прейскурант платных медицинских услуг {org.short_name}",
            number=f"ПР-{org.ogrn[-4:]}/2026",
            date=date(2025, 12, 20),
            url=f"{org.website}/price-list-2026.pdf",
        )
        coefficient = REGION_COEFFICIENTS[org.address.region_code] * 1.2
        result += [
            Tariff(
                service_code=service.code,
                price=_price(service, coefficient, TARIFF_YEARS[-1]),
                effective_from=date(2026, 1, 1),
                organization_id=org.id,
                document=price_list,
                updated_at=UPDATED_AT,
            )
            for service in services
            if service.category is ServiceCategory.PAID
        ]
    return tuple(result)
