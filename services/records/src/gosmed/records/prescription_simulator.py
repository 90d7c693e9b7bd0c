"""A clinic simulator for prescriptions and referrals: each demo patient with a history gets
some of each from the Moscow demo clinics, published through the clinics' door as a clinic's
information system would (deterministic).

    python -m gosmed.records.prescription_simulator        # demo data (`make run`)
"""

import asyncio
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import aio_pika

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENTS_WITH_HISTORY, DemoPerson
from gosmed.contracts.records.intake import ReportAccepted
from gosmed.contracts.records.prescriptions import (
    PRESCRIPTIONS,
    REFERRALS,
    ReportedPrescription,
    ReportedReferral,
    ReportPrescriptions,
    ReportReferrals,
)
from gosmed.contracts.registry.specialties import SPECIALTY_TITLES, Specialty
from gosmed.records.simulator import HISTORY_ENDS, Catalogue, Clinic, clinic_url, user_of
from gosmed.runtime.settings import CommonSettings

SEED = 20261201
PRESCRIPTIONS_EACH = 8
REFERRALS_EACH = 5
MEDICINES = (
    ("Метформин", "500 мг", "2 раза в день во время еды", True),
    ("Аторвастатин", "20 мг", "1 раз в день вечером", True),
    ("Эналаприл", "10 мг", "2 раза в день", True),
    ("Амоксициллин", "500 мг", "3 раза в день 7 дней", False),
    ("Омепразол", "20 мг", "1 раз в день утром натощак", False),
    ("Железа сульфат", "80 мг", "1 раз в день", False),
    ("Цетиризин", "10 мг", "1 раз в день", False),
    ("Бисопролол", "5 мг", "1 раз в день утром", True),
)
REFERRALS_TO = (
    (Specialty.CARDIOLOGY, "Повышенное артериальное давление, консультация"),
    (Specialty.ENDOCRINOLOGY, "Контроль гликемии, коррекция терапии"),
    (Specialty.OPHTHALMOLOGY, "Плановый осмотр глазного дна"),
    (Specialty.CLINICAL_LABORATORY_DIAGNOSTICS, "Общий анализ крови, липидный профиль"),
    (Specialty.ULTRASOUND_DIAGNOSTICS, "УЗИ органов брюшной полости"),
)


def prescriptions_of(
    person: DemoPerson, clinics: Sequence[UUID]
) -> dict[UUID, list[ReportedPrescription]]:
    """The person's prescriptions over the last year, by the clinic that issued them."""
    rng = random.Random(f"{SEED}:prescriptions:{person.snils}")  # noqa: S311 (demo data)
    by_clinic: dict[UUID, list[ReportedPrescription]] = defaultdict(list)
    for number in range(PRESCRIPTIONS_EACH):
        medicine, dose, schedule, preferential = MEDICINES[number % len(MEDICINES)]
        issued = HISTORY_ENDS - timedelta(days=rng.randint(0, 365))
        clinic = clinics[number % len(clinics)]
        by_clinic[clinic].append(
            ReportedPrescription(
                clinic_prescription_id=f"rx-{person.snils}-{number:03d}",
                patient_snils=person.snils,
                medicine=medicine,
                dose=dose,
                schedule=schedule,
                issued_on=issued,
                start_on=issued,
                end_on=None if preferential else issued + timedelta(days=rng.choice((7, 14, 30))),
                preferential=preferential,
            )
        )
    return by_clinic


def referrals_of(person: DemoPerson, clinics: Sequence[UUID]) -> dict[UUID, list[ReportedReferral]]:
    """The person's referrals over the last year, by the clinic that issued them."""
    rng = random.Random(f"{SEED}:referrals:{person.snils}")  # noqa: S311 (demo data)
    by_clinic: dict[UUID, list[ReportedReferral]] = defaultdict(list)
    for number in range(REFERRALS_EACH):
        specialty, reason = REFERRALS_TO[number % len(REFERRALS_TO)]
        issued = HISTORY_ENDS - timedelta(days=rng.randint(0, 365))
        clinic = clinics[(number + 1) % len(clinics)]
        by_clinic[clinic].append(
            ReportedReferral(
                clinic_referral_id=f"ref-{person.snils}-{number:03d}",
                patient_snils=person.snils,
                to_whom=SPECIALTY_TITLES[specialty],
                to_specialty=specialty,
                reason=reason,
                issued_on=issued,
                valid_until=issued + timedelta(days=30),
            )
        )
    return by_clinic


Report = ReportPrescriptions | ReportReferrals
PRESCRIPTIONS_QUEUE = topology.command_queue(topology.Service.RECORDS, PRESCRIPTIONS)
REFERRALS_QUEUE = topology.command_queue(topology.Service.RECORDS, REFERRALS)


def demo_reports() -> list[tuple[str, Report]]:
    """(routing key, report) of every demo patient, one report per clinic and kind."""
    clinics = [c.id for c in Catalogue.demo().clinics[:3]]
    found: list[tuple[str, Report]] = []
    for person in PATIENTS_WITH_HISTORY:
        for org, prescribed in sorted(prescriptions_of(person, clinics).items()):
            found.append(
                (
                    PRESCRIPTIONS_QUEUE,
                    ReportPrescriptions(organization_id=org, prescriptions=tuple(prescribed)),
                )
            )
        for org, referred in sorted(referrals_of(person, clinics).items()):
            found.append(
                (REFERRALS_QUEUE, ReportReferrals(organization_id=org, referrals=tuple(referred)))
            )
    return found


async def publish(amqp_url: str, reports: list[tuple[str, Report]]) -> list[ReportAccepted]:
    """Each clinic's reports over that clinic's own connection, waiting for every answer."""
    by_clinic: dict[UUID, list[tuple[str, Report]]] = defaultdict(list)
    for routing_key, report in reports:
        by_clinic[report.organization_id].append((routing_key, report))
    answers: list[ReportAccepted] = []
    for organization_id, sent in sorted(by_clinic.items()):
        url = await asyncio.to_thread(clinic_url, amqp_url, organization_id)
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            clinic = await Clinic.open(channel, organization_id, user_of(url))
            futures = [
                await clinic.send_json(
                    report.model_dump_json().encode(), str(report.message_id), routing_key=key
                )
                for key, report in sent
            ]
            answers.extend(await asyncio.wait_for(asyncio.gather(*futures), timeout=120))
    return answers


def main() -> int:
    answers = asyncio.run(publish(CommonSettings().amqp_url, demo_reports()))
    print(
        f"prescription simulator: {len(answers)} reports, "
        f"{sum(a.created for a in answers)} new, {sum(a.updated for a in answers)} updated",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
