"""A clinic simulator: publishes rendered-service reports over the broker, as a clinic's
information system would, and waits for each report's answer.

    python -m gosmed.records.simulator                      # demo histories (`make run`)
    python -m gosmed.records.simulator --count 50 --patient 11223344595 [--clinic ORG_ID]

Organizations, specialists and service codes come from the registry's demo data set
(`gosmed.registry.demo`); everything is deterministic (fixed seed).
"""

import argparse
import asyncio
import random
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from urllib.parse import unquote, urlsplit
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENTS_WITH_HISTORY, DemoPerson
from gosmed.contracts.errors import ErrorReply
from gosmed.contracts.records.intake import (
    MAX_BATCH,
    RENDERED_SERVICES,
    Diagnosis,
    RecordStatus,
    ReportAccepted,
    ReportedService,
    ReportRenderedServices,
)
from gosmed.contracts.records.views import Cost, CostKind, Coverage, CoverageKind
from gosmed.contracts.registry.catalog import MedicalService, ServiceCategory
from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.contracts.registry.specialties import SPECIALIST_TITLES, SPECIALTY_TITLES, Specialty
from gosmed.runtime.broker_access import BrokerAccess, BrokerAccessSettings
from gosmed.runtime.settings import CommonSettings

SEED = 20261125
DEMO_COUNT = 120
HISTORY_ENDS = date(2026, 11, 20)
HISTORY_DAYS = 3 * 365
QUEUE = topology.command_queue(topology.Service.RECORDS, RENDERED_SERVICES)
INSURERS = ("АО «СОГАЗ»", "СПАО «Ингосстрах»", "АО «АльфаСтрахование»")
DIAGNOSES = (
    ("J06.9", "Острая инфекция верхних дыхательных путей неуточненная"),
    ("I10", "Эссенциальная (первичная) гипертензия"),
    ("M54.5", "Боль внизу спины"),
    ("K29.7", "Гастрит неуточненный"),
    ("Z00.0", "Общий медицинский осмотр"),
    ("H52.1", "Миопия"),
    ("K02.1", "Кариес дентина"),
    ("S93.4", "Растяжение связок голеностопного сустава"),
    ("E11.9", "Сахарный диабет 2 типа без осложнений"),
    ("F41.1", "Генерализованное тревожное расстройство"),
)
OUTCOMES = ("Выздоровление", "Улучшение", "Без перемен", "Направлен на обследование")


@dataclass(frozen=True)
class Catalogue:
    """The registry's demo clinics, their specialists and the nomenclature by category."""

    clinics: tuple[OrganizationCard, ...]
    specialists: dict[UUID, tuple[SpecialistCard, ...]]
    services: dict[ServiceCategory, tuple[MedicalService, ...]]

    @classmethod
    def demo(cls) -> "Catalogue":
        from gosmed.registry import demo  # the registry's deterministic demo data set

        clinics = tuple(o for o in demo.organizations() if o.address.region_code == "77")
        staff: dict[UUID, list[SpecialistCard]] = defaultdict(list)
        for card in demo.specialists():
            staff[card.organization_id].append(card)
        services: dict[ServiceCategory, list[MedicalService]] = defaultdict(list)
        for service in demo.nomenclature():
            services[service.category].append(service)
        return cls(
            clinics=clinics,
            specialists={k: tuple(v) for k, v in staff.items()},
            services={k: tuple(v) for k, v in services.items()},
        )


def history(
    person: DemoPerson,
    count: int,
    catalogue: Catalogue,
    *,
    clinic: UUID | None = None,
    seed: int = SEED,
    prefix: str = "sim",
) -> dict[UUID, list[ReportedService]]:
    """`count` services of one patient over three years, across all eight categories and
    several clinics, with every kind of cost and coverage; grouped by reporting clinic."""
    rng = random.Random(f"{seed}:{person.snils}:{clinic}")  # noqa: S311 (demo data, not secrets)
    clinics = [c for c in catalogue.clinics if clinic is None or c.id == clinic]
    if not clinics:
        raise ValueError(f"no demo clinic {clinic}")
    by_clinic: dict[UUID, list[ReportedService]] = defaultdict(list)
    categories = list(ServiceCategory)
    for number in range(count):
        category = categories[number % len(categories)]
        service = rng.choice(catalogue.services[category])
        # the next clinic in turn that has a doctor for this service (else the one in turn)
        turn = [clinics[(number + k) % len(clinics)] for k in range(len(clinics))]
        org, staff = next(
            (
                (c, found)
                for c in turn
                if (found := qualified(catalogue.specialists.get(c.id, ()), service))
            ),
            (turn[0], ()),
        )
        specialist = rng.choice(staff) if staff and rng.random() < 0.85 else None
        cost, coverage = _payment(rng, category, number)
        code, text = rng.choice(DIAGNOSES)
        start = time(rng.randint(8, 19), rng.choice((0, 15, 30, 45)))
        with_time = category not in (ServiceCategory.INPATIENT, ServiceCategory.LABORATORY)
        by_clinic[org.id].append(
            ReportedService(
                clinic_record_id=f"{prefix}-{person.snils}-{number:05d}",
                patient_snils=person.snils,
                patient_oms_policy=person.oms_policy,
                department_name=SPECIALTY_TITLES[specialist.specialty] if specialist else None,
                department_id=specialist.department_id if specialist else None,
                specialist_id=specialist.id if specialist else None,
                service_code=service.code,
                service_name=service.name,
                category=category,
                rendered_on=HISTORY_ENDS - timedelta(days=rng.randint(0, HISTORY_DAYS)),
                start_time=start if with_time else None,
                end_time=time(start.hour, start.minute + 10) if with_time else None,
                diagnosis=Diagnosis(code=code, text=text)
                if category != ServiceCategory.LABORATORY
                else None,
                procedures=("Сбор анамнеза", "Осмотр") if specialist else (),
                outcome=rng.choice(OUTCOMES) if specialist else None,
                cost=cost,
                coverage=coverage,
                status=RecordStatus.CANCELLED if number % 37 == 36 else RecordStatus.COMPLETED,
            )
        )
    return by_clinic


CATEGORY_SPECIALTIES: dict[ServiceCategory, frozenset[Specialty]] = {
    ServiceCategory.LABORATORY: frozenset({Specialty.CLINICAL_LABORATORY_DIAGNOSTICS}),
    ServiceCategory.IMAGING: frozenset({Specialty.RADIOLOGY, Specialty.ULTRASOUND_DIAGNOSTICS}),
    ServiceCategory.DENTISTRY: frozenset({Specialty.DENTISTRY, Specialty.ORTHODONTICS}),
    ServiceCategory.REHABILITATION: frozenset({Specialty.PHYSIOTHERAPY}),
    ServiceCategory.INPATIENT: frozenset(
        {
            Specialty.SURGERY,
            Specialty.TRAUMATOLOGY_ORTHOPEDICS,
            Specialty.UROLOGY,
            Specialty.OBSTETRICS_GYNECOLOGY,
            Specialty.OPHTHALMOLOGY,
            Specialty.OTORHINOLARYNGOLOGY,
        }
    ),
    ServiceCategory.PREVENTION: frozenset(
        {
            Specialty.THERAPY,
            Specialty.GENERAL_PRACTICE,
            Specialty.PEDIATRICS,
            Specialty.INFECTIOUS_DISEASES,
        }
    ),
}
SPECIALISED = (
    frozenset().union(*CATEGORY_SPECIALTIES.values())
    - CATEGORY_SPECIALTIES[ServiceCategory.PREVENTION]
)


def qualified(
    staff: tuple[SpecialistCard, ...], service: MedicalService
) -> tuple[SpecialistCard, ...]:
    """The clinic's specialists who would render `service`: those its name names («врача-
    терапевта» -> врач-терапевт), else those of its category, else clinicians; may be none."""
    name = service.name.lower()
    fitting = frozenset(sp for sp in Specialty if all(w in name for w in _title_words(sp)))
    if not fitting:
        fitting = CATEGORY_SPECIALTIES.get(service.category, frozenset(Specialty) - SPECIALISED)
    return tuple(s for s in staff if s.specialty in fitting)


def _title_words(specialty: Specialty) -> list[str]:
    """«врач-акушер-гинеколог» -> [«акушер», «гинеколог»]: the words a service name declines."""
    title = SPECIALIST_TITLES[specialty].split("(")[0].replace("-", " ")
    return [word for word in title.split() if word != "врач"]


def _payment(rng: random.Random, category: ServiceCategory, number: int) -> tuple[Cost, Coverage]:
    """Every kind of cost and coverage: OMS free (mostly), voluntary insurance, paid exact or
    negotiable, and now and then an OMS service wrongly charged (the price check flags it)."""
    if category == ServiceCategory.PAID or number % 11 == 5:
        if number % 3 == 0:
            return (
                Cost(
                    kind=CostKind.NEGOTIABLE,
                    comment="Стоимость рассчитывается по прейскуранту после осмотра",
                ),
                Coverage(kind=CoverageKind.PAID_BY_PATIENT),
            )
        amount = rng.randint(8, 120) * 10_000
        return Cost(kind=CostKind.EXACT, amount=amount), Coverage(kind=CoverageKind.PAID_BY_PATIENT)
    if category == ServiceCategory.DENTISTRY or number % 13 == 7:
        return Cost(kind=CostKind.EXACT, amount=rng.randint(15, 90) * 10_000), Coverage(
            kind=CoverageKind.VOLUNTARY_INSURANCE, insurer_name=rng.choice(INSURERS)
        )
    if number % 41 == 40:
        return Cost(kind=CostKind.EXACT, amount=150_000), Coverage(kind=CoverageKind.OMS)
    return Cost(kind=CostKind.FREE), Coverage(kind=CoverageKind.OMS)


def reports(
    services: dict[UUID, list[ReportedService]], sync_queue: str | None = None
) -> Iterator[ReportRenderedServices]:
    """Batches of at most 500 services, one clinic each."""
    for organization_id, items in sorted(services.items()):
        for start in range(0, len(items), MAX_BATCH):
            yield ReportRenderedServices(
                organization_id=organization_id,
                sync_queue=sync_queue,
                services=tuple(items[start : start + MAX_BATCH]),
            )


class Clinic:
    """A clinic's connection: publishes reports through the clinics' door (exchange
    `gosmed.clinic-intake`, the AMQP `user_id` of its broker user) and collects the answers on
    its own reply queue `clinic.<organization>.replies`."""

    def __init__(
        self, channel: AbstractChannel, replies: AbstractQueue, organization_id: UUID, user: str
    ) -> None:
        self.channel = channel
        self.replies = replies
        self.organization_id = organization_id
        self.user = user
        self.waiting: dict[str, asyncio.Future[ReportAccepted]] = {}

    @classmethod
    async def open(cls, channel: AbstractChannel, organization_id: UUID, user: str) -> "Clinic":
        """On a channel of the clinic's own connection (`user` is its broker user)."""
        replies = await channel.get_queue(
            topology.clinic_queue(organization_id, topology.CLINIC_REPLIES), ensure=True
        )
        clinic = cls(channel, replies, organization_id, user)
        await replies.consume(clinic._on_reply, no_ack=True)
        return clinic

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self.waiting.pop(message.correlation_id or "", None)
        if future is None or future.done():
            return
        if (message.headers or {}).get(topology.HEADER_REPLY_STATUS):
            error = ErrorReply.model_validate_json(message.body)
            future.set_exception(RuntimeError(f"report rejected: {error.message}"))
        else:
            future.set_result(ReportAccepted.model_validate_json(message.body))

    async def send(self, report: ReportRenderedServices) -> asyncio.Future[ReportAccepted]:
        """Publish (persistent, confirmed); the future resolves once records has stored it."""
        return await self.send_json(report.model_dump_json().encode(), str(report.message_id))

    async def send_json(
        self,
        body: bytes,
        message_id: str,
        *,
        reply_to: str | None = None,
        routing_key: str = QUEUE,
    ) -> asyncio.Future[ReportAccepted]:
        """Publish a report as raw JSON (also one that records will reject) to the command
        queue `routing_key` (rendered services unless told)."""
        correlation_id = uuid.uuid4().hex
        future = asyncio.get_running_loop().create_future()
        self.waiting[correlation_id] = future
        door = await self.channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        await door.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message_id,
                correlation_id=correlation_id,
                reply_to=reply_to or self.replies.name,
                user_id=self.user,
            ),
            routing_key=routing_key,
            mandatory=True,
        )
        return future


def clinic_url(amqp_url: str, organization_id: UUID) -> str:
    """The clinic's AMQP URL, its user and queues made as `python -m
    gosmed.runtime.broker_access clinic add` makes them (the demo clinics' path)."""
    return BrokerAccess(BrokerAccessSettings(amqp_url=amqp_url)).add_clinic(organization_id)


async def publish(amqp_url: str, batches: list[ReportRenderedServices]) -> list[ReportAccepted]:
    """Each clinic's batches over that clinic's own connection; answers in batch order."""
    by_clinic: dict[UUID, list[int]] = defaultdict(list)
    for index, batch in enumerate(batches):
        by_clinic[batch.organization_id].append(index)
    answers: dict[int, ReportAccepted] = {}

    async def one_clinic(organization_id: UUID, indexes: list[int]) -> None:
        url = await asyncio.to_thread(clinic_url, amqp_url, organization_id)
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            clinic = await Clinic.open(channel, organization_id, user_of(url))
            futures = [await clinic.send(batches[i]) for i in indexes]
            results = await asyncio.wait_for(asyncio.gather(*futures), timeout=300)
            answers.update(zip(indexes, results, strict=True))

    await asyncio.gather(*(one_clinic(org, ids) for org, ids in by_clinic.items()))
    return [answers[i] for i in range(len(batches))]


def user_of(amqp_url: str) -> str:
    return unquote(urlsplit(amqp_url).username or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, help="services to publish (default: demo set)")
    parser.add_argument("--patient", help="SNILS of a demo patient")
    parser.add_argument("--clinic", type=UUID, help="registry id of one demo clinic")
    parser.add_argument("--prefix", default="sim", help="prefix of the clinic record ids")
    args = parser.parse_args(argv)
    catalogue = Catalogue.demo()
    people: tuple[DemoPerson, ...] = PATIENTS_WITH_HISTORY
    if args.patient:
        people = tuple(p for p in PATIENTS_WITH_HISTORY if p.snils == args.patient)
        if not people:
            parser.error("--patient must be the SNILS of a demo patient with history")
    batches = [
        batch
        for person in people
        for batch in reports(
            history(
                person,
                args.count or DEMO_COUNT,
                catalogue,
                clinic=args.clinic,
                prefix=args.prefix,
            )
        )
    ]
    answers = asyncio.run(publish(CommonSettings().amqp_url, batches))
    created = sum(a.created for a in answers)
    updated = sum(a.updated for a in answers)
    print(
        f"clinic simulator: {len(batches)} reports, {created} new records, {updated} updated",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
