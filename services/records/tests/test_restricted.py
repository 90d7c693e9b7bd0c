"""Restricted categories on the embedded store, with identity and the registry as fakes: a
reader whose basis does not cover them gets none of the records restricted by diagnosis,
service code or the doctor's specialty (a registry outage hides rather than shows), and a
notice without a count; the patient gets everything."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.base import utc_now
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import (
    AUTHORIZE,
    AccessDecision,
    Authorize,
    PatientRef,
)
from gosmed.contracts.records.details import GetRenderedService
from gosmed.contracts.records.intake import Diagnosis, ReportedService
from gosmed.contracts.records.queries import (
    ExportRenderedServices,
    ListRenderedServices,
    NoticeCode,
)
from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.registry.specialists import SpecialistUpdated
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.topology import Service
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.domain import DataConsent, record_id
from gosmed.records.ports import Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Reading, Timing
from gosmed.records.settings import RecordsSettings
from gosmed.records.simulator import Catalogue, history
from gosmed.registry import demo
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakeRpc

OWNER = PatientRef(
    account_id=uuid.uuid4(),
    snils=PATIENT.snils,
    full_name=PATIENT.full_name,
    birth_date=PATIENT.birth_date,
)
AGENT = uuid.uuid4()
SHOWN = ("therapist", "vaccination by an infectionist")
HIDDEN = (
    "psychiatrist, no diagnosis",
    "psychiatric visit code",
    "infectionist visit",
    "HIV antibodies test",
    "asymptomatic HIV status",
    "doctor with no card (registry down)",
)


@dataclass
class Harness:
    reading: Reading
    organization_id: UUID
    ids: dict[str, UUID]

    async def page(self, actor: UUID) -> tuple[set[str], dict[NoticeCode, int | None]]:
        context = AccessContext(actor_id=actor, patient_id=OWNER.account_id)
        page = await self.reading.list_services(ListRenderedServices(context=context))
        names = {name for name, ident in self.ids.items() if ident in {i.id for i in page.items}}
        return names, {n.code: n.count for n in page.notices}


async def authorize(request: Authorize) -> AccessDecision:
    """The patient sees everything; the agent, by a power of attorney, no restricted category."""
    own = request.context.actor_id == OWNER.account_id
    return AccessDecision(
        allowed=True,
        actor_id=request.context.actor_id,
        patient=OWNER,
        basis=LegalBasis.OWN_ACCOUNT if own else LegalBasis.POWER_OF_ATTORNEY,
        basis_document_id=None if own else "77 АА 1234567",
        sees_restricted_categories=own,
    )


@pytest.fixture
async def harness(catalogue: Catalogue) -> AsyncIterator[Harness]:
    store = open_store(None, f"records_restricted_{uuid.uuid4().hex[:8]}")
    database, now = store.database, utc_now()
    fake = FakeRpc()  # the registry is down: only the cards kept from its events are known
    fake.answer(AUTHORIZE, authorize)
    registry = Registry(ServiceClient(Service.REGISTRY, fake))
    cards = Cards(CardsRepository(database), registry)
    clinic = catalogue.clinics[0]
    template = demo.specialists()[0]
    doctors = {}
    for specialty in (Specialty.THERAPY, Specialty.PSYCHIATRY, Specialty.INFECTIOUS_DISEASES):
        card = template.model_copy(
            update={"id": uuid.uuid4(), "specialty": specialty, "organization_id": clinic.id}
        )
        await cards.specialist_updated(SpecialistUpdated(specialist=card))
        doctors[specialty] = card.id
    [reported] = history(PATIENT, 1, catalogue, clinic=clinic.id).values()
    base = reported[0].model_copy(
        update={
            "service_code": "B01.047.001",
            "category": ServiceCategory.OUTPATIENT_VISIT,
            "specialist_id": doctors[Specialty.THERAPY],
            "diagnosis": Diagnosis(code="J06.9", text="ОРВИ"),
        }
    )
    variants: dict[str, dict[str, object]] = {
        "therapist": {},
        "vaccination by an infectionist": {
            "service_code": "B04.014.004.005",
            "category": ServiceCategory.PREVENTION,
            "specialist_id": doctors[Specialty.INFECTIOUS_DISEASES],
            "diagnosis": None,
        },
        "psychiatrist, no diagnosis": {
            "specialist_id": doctors[Specialty.PSYCHIATRY],
            "diagnosis": None,
        },
        "psychiatric visit code": {"service_code": "B01.035.001", "specialist_id": None},
        "infectionist visit": {"specialist_id": doctors[Specialty.INFECTIOUS_DISEASES]},
        "HIV antibodies test": {
            "service_code": "A26.06.048",
            "category": ServiceCategory.LABORATORY,
            "specialist_id": None,
            "diagnosis": None,
        },
        "asymptomatic HIV status": {"diagnosis": Diagnosis(code="Z21", text="Носительство")},
        "doctor with no card (registry down)": {"specialist_id": uuid.uuid4()},
    }
    items: list[ReportedService] = []
    ids = {}
    for number, (name, update) in enumerate(variants.items()):
        item = base.model_copy(update={**update, "clinic_record_id": f"restricted-{number}"})
        items.append(item)
        ids[name] = record_id(clinic.id, item.clinic_record_id)
    records, consents = RecordsRepository(database), ConsentsRepository(database)
    await records.store_batch(clinic.id, items, uuid.uuid4().hex, now)
    await consents.put(PATIENT.snils, DataConsent(all_clinics=True, updated_at=now), AGENT)
    reading = Reading(
        records,
        consents,
        SyncRepository(database),
        JournalRepository(database),
        Identity(ServiceClient(Service.IDENTITY, fake)),
        registry,
        cards,
        Sender(RabbitBroker(), RecordsSettings()),
        Timing(sync_cooldown=timedelta(minutes=5), sync_answer_within=timedelta(minutes=10)),
    )
    yield Harness(reading, clinic.id, ids)
    store.close()


async def test_the_patient_sees_every_record_and_no_restricted_notice(harness: Harness) -> None:
    names, notices = await harness.page(OWNER.account_id)

    assert names == set(SHOWN) | set(HIDDEN)
    assert NoticeCode.RESTRICTED_HIDDEN not in notices


async def test_a_representative_gets_no_restricted_record_and_no_count(harness: Harness) -> None:
    names, notices = await harness.page(AGENT)

    assert names == set(SHOWN)
    assert notices[NoticeCode.RESTRICTED_HIDDEN] is None


async def test_restricted_records_are_not_found_or_exported_for_a_representative(
    harness: Harness,
) -> None:
    agent = AccessContext(actor_id=AGENT, patient_id=OWNER.account_id)
    for name in HIDDEN:
        with pytest.raises(ServiceError) as error:
            await harness.reading.get_service(
                GetRenderedService(context=agent, record_id=harness.ids[name])
            )
        assert error.value.code == ErrorCode.NOT_FOUND, name
    for name in SHOWN:
        detail = await harness.reading.get_service(
            GetRenderedService(context=agent, record_id=harness.ids[name])
        )
        assert detail.item.id == harness.ids[name]

    export = await harness.reading.export_services(ExportRenderedServices(context=agent))
    assert {i.id for i in export.items} == {harness.ids[name] for name in SHOWN}
    owner = AccessContext(actor_id=OWNER.account_id, patient_id=OWNER.account_id)
    everything = await harness.reading.export_services(ExportRenderedServices(context=owner))
    assert len(everything.items) == len(SHOWN) + len(HIDDEN)
