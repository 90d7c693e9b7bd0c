"""Lab result use cases on the embedded store: intake (idempotent, versioned, the patient's
notice of a ready result), values and files sealed at rest, reading on the patient's rights
(restricted studies, strangers), the 12 months on a moved clock, and the export of values."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from faststream.rabbit import RabbitBroker

from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.demo import PATIENT
from gosmed.contracts.documents.lab_reports import RENDER_LAB_REPORT, RenderLabReport
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action, PatientRef
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.records.lab import (
    ExportLabValues,
    GetLabResult,
    GetLabResultFile,
    LabFileFormat,
    LabResultFile,
    LabStatus,
    ListLabResults,
    ReportedLabResult,
    ReportLabResults,
)
from gosmed.contracts.topology import Service
from gosmed.contracts.types import DateRange
from gosmed.records.cards import Cards
from gosmed.records.cards_repository import CardsRepository
from gosmed.records.lab_results import LabResults
from gosmed.records.lab_results_repository import LabResultsRepository
from gosmed.records.lab_rules import lab_result_id
from gosmed.records.lab_simulator import (
    BIOCHEMISTRY,
    BLOOD_COUNT,
    cholesterol,
    demo_results,
    glucose,
    haemoglobin,
    simple_pdf,
)
from gosmed.records.ports import Documents, Identity, Registry, Sender
from gosmed.records.repository import (
    ConsentsRepository,
    JournalRepository,
    RecordsRepository,
    SyncRepository,
)
from gosmed.records.service import Reading, Timing
from gosmed.runtime.crypto import KeyRing
from gosmed.runtime.outbox import Relay
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.settings import CommonSettings
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakePublisher, FakeRpc

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ACCOUNT, REPRESENTATIVE, STRANGER = UUID(int=7), UUID(int=9), UUID(int=8)
LAB = UUID(int=42)
OWNER = PatientRef(
    account_id=ACCOUNT,
    snils=PATIENT.snils,
    oms_policy=PATIENT.oms_policy,
    full_name=PATIENT.full_name,
    birth_date=PATIENT.birth_date,
)
MINE = AccessContext(actor_id=ACCOUNT)
HIV_TEST = ("A26.06.048", "Определение антител классов M, G к ВИЧ-1 в крови")


class Decisions(Identity):
    """The patient sees everything; a representative all but restricted studies; anyone
    else is refused."""

    def __init__(self) -> None:
        self.asked: list[Action] = []

    async def authorize(self, context: AccessContext, action: Action) -> AccessDecision:
        self.asked.append(action)
        if context.actor_id not in (ACCOUNT, REPRESENTATIVE):
            return AccessDecision(allowed=False, actor_id=context.actor_id, reason="нет права")
        own = context.actor_id == ACCOUNT
        return AccessDecision(
            allowed=True,
            actor_id=context.actor_id,
            patient=OWNER,
            basis=LegalBasis.OWN_ACCOUNT if own else LegalBasis.POWER_OF_ATTORNEY,
            basis_label="" if own else "доверенность № 1",
            sees_restricted_categories=own,
        )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    lab: LabResults
    store: LabResultsRepository
    journal: JournalRepository
    published: FakePublisher
    identity: Decisions
    clock: Clock
    rendered: list[RenderLabReport]

    async def report(self, *results: ReportedLabResult) -> tuple[int, int, int]:
        accepted = await self.lab.report(ReportLabResults(organization_id=LAB, results=results))
        return accepted.created, accepted.updated, accepted.unchanged

    def notices(self) -> list[SendNotification]:
        return self.published.messages(NOTIFY_QUEUE, SendNotification)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    store = open_store(None, f"records_lab_{uuid4().hex[:8]}")
    database = store.database
    registry = Registry(ServiceClient(Service.REGISTRY, FakeRpc()))
    identity, clock = Decisions(), Clock(NOW)
    journal = JournalRepository(database)
    cards = Cards(CardsRepository(database), registry)
    reading = Reading(
        RecordsRepository(database),
        ConsentsRepository(database),
        SyncRepository(database),
        journal,
        identity,
        registry,
        cards,
        Sender(RabbitBroker(), CommonSettings()),
        Timing(sync_cooldown=timedelta(minutes=5), sync_answer_within=timedelta(minutes=10)),
        clock=clock,
    )
    published = FakePublisher()
    relay = Relay(published, first_retry_seconds=0.05, longest_retry_seconds=0.2)
    lab_store = LabResultsRepository(database, KeyRing.generated("test"))
    await lab_store.ensure_indexes()
    rendered: list[RenderLabReport] = []

    async def render(request: RenderLabReport) -> LabResultFile:
        rendered.append(request)
        return LabResultFile(
            file_name="rendered", media_type="application/pdf", content=b"%PDF-", rendered=True
        )

    documents_rpc = FakeRpc()
    documents_rpc.answer(RENDER_LAB_REPORT, render)
    documents = Documents(ServiceClient(Service.DOCUMENTS, documents_rpc))
    lab = LabResults(lab_store, reading, cards, documents, relay, clock=clock)
    yield Harness(lab, lab_store, journal, published, identity, clock, rendered)
    await relay.stop()
    store.close()


def result(
    clinic_id: str,
    study: tuple[str, str] = BIOCHEMISTRY,
    ready_days_ago: int | None = 1,
    **extra: object,
) -> ReportedLabResult:
    ready_at = NOW - timedelta(days=ready_days_ago) if ready_days_ago is not None else None
    return ReportedLabResult.model_validate(
        {
            "clinic_result_id": clinic_id,
            "patient_snils": PATIENT.snils,
            "patient_oms_policy": PATIENT.oms_policy,
            "study_code": study[0],
            "study_name": study[1],
            "ordered_on": (ready_at or NOW).date() - timedelta(days=1),
            "ready_at": ready_at,
            "status": LabStatus.READY if ready_at else LabStatus.IN_PROGRESS,
            "analytes": (glucose("7.4"), cholesterol("4.8")),
        }
        | extra
    )


async def test_a_report_is_stored_once_and_a_newer_version_replaces_it(harness: Harness) -> None:
    pending = result("R-1", ready_days_ago=None, analytes=())
    assert await harness.report(pending) == (1, 0, 0)
    assert await harness.report(pending) == (0, 0, 1)
    assert harness.notices() == []

    ready = result("R-1", version=2)
    assert await harness.report(ready) == (0, 1, 0)
    assert await harness.report(pending) == (0, 0, 1)  # an older version changes nothing

    detail = await harness.lab.get_result(
        GetLabResult(context=MINE, result_id=lab_result_id(LAB, "R-1"))
    )
    assert detail.item.status == LabStatus.READY
    assert [a.code for a in detail.analytes] == ["GLU", "CHOL"]
    [notice] = harness.notices()
    assert notice.recipient_snils == PATIENT.snils
    assert BIOCHEMISTRY[1] in notice.body
    assert {c.value for c in notice.channels} == {"inbox", "sms"}


async def test_values_and_files_are_sealed_in_the_raw_store(harness: Harness) -> None:
    pdf = simple_pdf(["Study B03.016.004", "GLU 7.4 mmol/L"])
    await harness.report(result("R-2", pdf=pdf, xml=b"<report><glu>7.4</glu></report>"))

    raw = [doc async for doc in harness.store.results.find({})]
    raw += [doc async for doc in harness.store.files.find({})]
    text = json.dumps(raw, default=str)
    for plaintext in ("7.4", "4.8", "GLU", "%PDF", "<report>"):
        assert plaintext not in text
    assert all(doc["sealed"].startswith("gcm1.test.") for doc in raw if "sealed" in doc)

    file = await harness.lab.file(
        GetLabResultFile(
            context=MINE, result_id=lab_result_id(LAB, "R-2"), format=LabFileFormat.PDF
        )
    )
    assert file.content == pdf
    assert file.media_type == "application/pdf"


async def test_without_the_laboratorys_file_documents_renders_one(harness: Harness) -> None:
    await harness.report(result("R-5"), result("R-6", ready_days_ago=None, analytes=()))

    file = await harness.lab.file(
        GetLabResultFile(
            context=MINE, result_id=lab_result_id(LAB, "R-5"), format=LabFileFormat.XML
        )
    )
    assert file.rendered
    [asked] = harness.rendered
    assert asked.format == LabFileFormat.XML
    assert asked.result.patient.snils == PATIENT.snils
    assert [a.value for a in asked.result.analytes] == ["7.4", "4.8"]
    with pytest.raises(ServiceError) as caught:  # not ready: nothing to render
        await harness.lab.file(
            GetLabResultFile(
                context=MINE, result_id=lab_result_id(LAB, "R-6"), format=LabFileFormat.PDF
            )
        )
    assert caught.value.code == ErrorCode.CONFLICT


async def test_lists_newest_first_and_journals_the_basis(harness: Harness) -> None:
    await harness.report(
        result("R-old", ready_days_ago=90), result("R-new", ready_days_ago=3), result("R-mid")
    )
    page = await harness.lab.list_results(ListLabResults(context=MINE, limit=2))
    days = [i.ordered_on for i in page.items]
    assert days == sorted(days, reverse=True)
    assert len(days) == 2
    assert page.next_cursor
    rest = await harness.lab.list_results(
        ListLabResults(context=MINE, limit=2, cursor=page.next_cursor)
    )
    assert len(rest.items) == 1
    assert harness.identity.asked == [Action.READ_LAB_RESULTS] * 2
    log = await harness.journal.page(ACCOUNT, None, 10)
    assert {entry.what for entry in log} == {"lab-list"}


async def test_restricted_studies_are_hidden_from_a_representative(harness: Harness) -> None:
    await harness.report(result("HIV", HIV_TEST), result("CBC", BLOOD_COUNT))
    ident = lab_result_id(LAB, "HIV")
    theirs = AccessContext(actor_id=REPRESENTATIVE, patient_id=ACCOUNT)

    seen = await harness.lab.list_results(ListLabResults(context=theirs))
    assert [i.study_code for i in seen.items] == [BLOOD_COUNT[0]]
    with pytest.raises(ServiceError) as caught:
        await harness.lab.get_result(GetLabResult(context=theirs, result_id=ident))
    assert caught.value.code == ErrorCode.NOT_FOUND
    mine = await harness.lab.get_result(GetLabResult(context=MINE, result_id=ident))
    assert mine.item.study_code == HIV_TEST[0]
    [notice, _] = harness.notices()
    assert HIV_TEST[1] not in notice.body


async def test_a_stranger_gets_not_found(harness: Harness) -> None:
    await harness.report(result("R-3"))
    theirs = AccessContext(actor_id=STRANGER, patient_id=ACCOUNT)
    with pytest.raises(ServiceError) as caught:
        await harness.lab.get_result(
            GetLabResult(context=theirs, result_id=lab_result_id(LAB, "R-3"))
        )
    assert caught.value.code == ErrorCode.NOT_FOUND


async def test_after_twelve_months_a_result_is_gone_and_its_files_erased(
    harness: Harness,
) -> None:
    await harness.report(result("R-4", pdf=simple_pdf(["GLU 7.4"])))
    ident = lab_result_id(LAB, "R-4")
    assert await harness.lab.erase_expired() == 0

    harness.clock.now = NOW + timedelta(days=366)  # the clock moves past the 12 months
    with pytest.raises(ServiceError) as caught:
        await harness.lab.get_result(GetLabResult(context=MINE, result_id=ident))
    assert caught.value.code == ErrorCode.GONE
    assert "12 месяцев" in caught.value.message

    assert await harness.lab.erase_expired() == 1
    assert await harness.store.files.count_documents({}) == 0
    raw = await harness.store.results.find_one({"_id": str(ident)})
    assert raw is not None
    assert raw["analytes"] is None
    assert raw["expired"] is True
    assert await harness.lab.erase_expired() == 0


async def test_export_gives_the_values_of_the_asked_analytes_oldest_first(
    harness: Harness,
) -> None:
    demo = demo_results(PATIENT, NOW.date(), prefix="x")
    await harness.report(*demo)

    export = await harness.lab.export_values(
        ExportLabValues(context=MINE, analyte_codes=frozenset({"2345-7", "HGB"}))
    )
    codes = {v.analyte.code for v in export.values}
    assert codes == {"GLU", "HGB"}
    moments = [v.ready_at for v in export.values]
    assert moments == sorted(moments)
    glucose_values = [v.analyte.value for v in export.values if v.analyte.code == "GLU"]
    assert len(glucose_values) == 4  # the fifth is older than 12 months
    assert any(v.analyte.flag for v in export.values)

    recent = await harness.lab.export_values(
        ExportLabValues(
            context=MINE,
            period=DateRange(start=NOW.date() - timedelta(days=30), end=NOW.date()),
            analyte_codes=frozenset({"CHOL"}),
        )
    )
    assert [v.analyte.value for v in recent.values] == ["4.9"]


def test_demo_data_has_repeated_analytes_and_every_kind_of_result() -> None:
    results = demo_results(PATIENT, date(2026, 6, 1))
    statuses = {r.status for r in results}
    assert statuses == {LabStatus.READY, LabStatus.IN_PROGRESS}
    flagged = [a for r in results for a in r.analytes if a.flag]
    assert flagged
    oldest = min(r.ready_at for r in results if r.ready_at)
    assert oldest < datetime(2025, 6, 1, tzinfo=UTC)
    for code in ("GLU", "CHOL", "HGB"):
        assert len({r.ready_at for r in results for a in r.analytes if a.code == code}) >= 4
    assert any(r.pdf for r in results)
    assert haemoglobin("100").flag is not None
