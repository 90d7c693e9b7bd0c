"""The demo clinics' laboratory: reports lab results of the demo patients through the clinics'
door, then exits. The patient gets blood tests on several dates (glucose, cholesterol and
haemoglobin over time), one of them out of range, one still in progress and one older than
12 months; the children one test each.

    python -m gosmed.records.lab_simulator
"""

import asyncio
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from gosmed.contracts import topology
from gosmed.contracts.demo import PATIENT, PATIENTS_WITH_HISTORY, DemoPerson
from gosmed.contracts.errors import ErrorReply
from gosmed.contracts.records.lab import (
    LAB_RESULTS,
    Analyte,
    AnalyteFlag,
    LabResultsAccepted,
    LabStatus,
    ReferenceRange,
    ReportedLabResult,
    ReportLabResults,
)
from gosmed.records.simulator import Catalogue, clinic_url, user_of
from gosmed.runtime.settings import CommonSettings

QUEUE = topology.command_queue(topology.Service.RECORDS, LAB_RESULTS)
BIOCHEMISTRY = ("B03.016.004", "Анализ крови биохимический общетерапевтический")
BLOOD_COUNT = ("B03.016.003", "Общий (клинический) анализ крови развернутый")
# (days before today the result was ready, glucose, cholesterol, haemoglobin)
PATIENT_VISITS = (
    (420, "5.1", "5.0", "131"),
    (300, "5.4", "5.6", "128"),
    (200, "5.0", "5.3", "125"),
    (100, "7.2", "5.9", "118"),
    (20, "5.3", "4.9", "132"),
)
IN_PROGRESS_DAYS = 2


def glucose(value: str) -> Analyte:
    return _analyte("GLU", "2345-7", "Глюкоза", value, "ммоль/л", "3.9", "6.1")


def cholesterol(value: str) -> Analyte:
    return _analyte("CHOL", "2093-3", "Холестерин общий", value, "ммоль/л", None, "5.2")


def haemoglobin(value: str) -> Analyte:
    return _analyte("HGB", "718-7", "Гемоглобин", value, "г/л", "120", "150")


def _analyte(
    code: str, loinc: str, name: str, value: str, unit: str, low: str | None, high: str
) -> Analyte:
    number = Decimal(value)
    flag = None
    if number > Decimal(high):
        flag = AnalyteFlag.HIGH
    elif low is not None and number < Decimal(low):
        flag = AnalyteFlag.LOW
    return Analyte(
        code=code,
        loinc=loinc,
        name=name,
        value=value,
        unit=unit,
        reference_range=ReferenceRange(
            low=Decimal(low) if low else None,
            high=Decimal(high),
            text=f"{low}–{high}" if low else f"< {high}",
        ),
        flag=flag,
    )


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page PDF of ASCII `lines` (what a laboratory's system would sign and send)."""
    text = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _result(
    person: DemoPerson,
    clinic_id: str,
    study: tuple[str, str],
    ready_at: datetime | None,
    analytes: tuple[Analyte, ...],
    *,
    status: LabStatus = LabStatus.READY,
    with_pdf: bool = False,
) -> ReportedLabResult:
    ordered = (ready_at or datetime.now(UTC)).date() - timedelta(days=1)
    pdf = None
    if with_pdf:
        lines = [f"Laboratory report {clinic_id}", f"Study {study[0]}"]
        pdf = simple_pdf(lines + [f"{a.code} {a.value}" for a in analytes])
    return ReportedLabResult(
        clinic_result_id=clinic_id,
        patient_snils=person.snils,
        patient_oms_policy=person.oms_policy,
        study_code=study[0],
        study_name=study[1],
        ordered_on=ordered,
        collected_at=datetime.combine(ordered, time(8, 30), UTC),
        ready_at=ready_at,
        status=status,
        analytes=analytes,
        pdf=pdf,
    )


def demo_results(
    person: DemoPerson, today: date, prefix: str = "lab"
) -> tuple[ReportedLabResult, ...]:
    """The demo results of `person` relative to `today` (ids stable for a given prefix)."""
    base = f"{prefix}-{person.snils}"
    noon = datetime.combine(today, time(12), UTC)
    if person != PATIENT:
        ready = noon - timedelta(days=30)
        return (_result(person, f"{base}-cbc-30", BLOOD_COUNT, ready, (haemoglobin("124"),)),)
    results = []
    for days, glu, chol, hgb in PATIENT_VISITS:
        ready = noon - timedelta(days=days)
        results.append(
            _result(
                person,
                f"{base}-bio-{days}",
                BIOCHEMISTRY,
                ready,
                (glucose(glu), cholesterol(chol)),
                with_pdf=days == PATIENT_VISITS[-1][0],
            )
        )
        results.append(
            _result(person, f"{base}-cbc-{days}", BLOOD_COUNT, ready, (haemoglobin(hgb),))
        )
    results.append(
        _result(
            person,
            f"{base}-bio-{IN_PROGRESS_DAYS}",
            BIOCHEMISTRY,
            None,
            (),
            status=LabStatus.IN_PROGRESS,
        )
    )
    return tuple(results)


class RejectedError(Exception):
    """The clinic's report was refused; `reply` lists every reason."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


async def send(amqp_url: str, report: ReportLabResults) -> LabResultsAccepted:
    """Publish `report` as its clinic does (its own broker user, through the door) and wait for
    the answer on the clinic's reply queue; a rejection raises `RejectedError`."""
    return await send_json(amqp_url, report.organization_id, report.model_dump_json().encode())


async def send_json(amqp_url: str, organization_id: UUID, body: bytes) -> LabResultsAccepted:
    """Publish a report as raw JSON (also one that records will reject)."""
    url = await asyncio.to_thread(clinic_url, amqp_url, organization_id)
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        replies = await channel.get_queue(
            topology.clinic_queue(organization_id, topology.CLINIC_REPLIES), ensure=True
        )
        correlation_id = uuid.uuid4().hex
        answer: asyncio.Future[LabResultsAccepted] = asyncio.get_running_loop().create_future()

        async def on_reply(message: AbstractIncomingMessage) -> None:
            if message.correlation_id != correlation_id or answer.done():
                return
            if (message.headers or {}).get(topology.HEADER_REPLY_STATUS):
                answer.set_exception(RejectedError(ErrorReply.model_validate_json(message.body)))
            else:
                answer.set_result(LabResultsAccepted.model_validate_json(message.body))

        await replies.consume(on_reply, no_ack=True)
        door = await channel.get_exchange(topology.CLINIC_INTAKE_EXCHANGE, ensure=False)
        await door.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=uuid.uuid4().hex,
                correlation_id=correlation_id,
                reply_to=replies.name,
                user_id=user_of(url),
            ),
            routing_key=QUEUE,
            mandatory=True,
        )
        return await asyncio.wait_for(answer, timeout=120)


def demo_laboratory(catalogue: Catalogue) -> UUID:
    """The demo clinic whose laboratory reports."""
    return catalogue.clinics[0].id


def main() -> int:
    organization_id = demo_laboratory(Catalogue.demo())
    today = datetime.now(UTC).date()
    results = tuple(r for p in PATIENTS_WITH_HISTORY for r in demo_results(p, today))
    report = ReportLabResults(organization_id=organization_id, results=results)
    accepted = asyncio.run(send(CommonSettings().amqp_url, report))
    print(
        f"lab simulator: {accepted.created} new lab results, {accepted.updated} updated",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
