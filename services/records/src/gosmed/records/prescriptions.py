"""Use cases of prescriptions and referrals: clinics report them (versioned per clinic id),
patients and those their basis allows read them, every read journaled."""

from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID, uuid5

from pydantic import BaseModel

from gosmed.contracts.identity.access import Action
from gosmed.contracts.records.intake import ReportAccepted
from gosmed.contracts.records.prescriptions import (
    ListPrescriptions,
    ListReferrals,
    PrescriptionsPage,
    PrescriptionView,
    ReferralsPage,
    ReferralView,
    ReportPrescriptions,
    ReportReferrals,
)
from gosmed.records.domain import RECORD_NAMESPACE, Position
from gosmed.records.prescriptions_repository import ClinicItemsRepository, Stored
from gosmed.records.service import Reading

ViewT = TypeVar("ViewT", PrescriptionView, ReferralView)


def item_id(kind: str, organization_id: UUID, clinic_id: str) -> UUID:
    """The stable id of a clinic's prescription or referral."""
    return uuid5(RECORD_NAMESPACE, f"{kind}:{organization_id}:{clinic_id}")


class Prescriptions:
    def __init__(
        self,
        prescriptions: ClinicItemsRepository,
        referrals: ClinicItemsRepository,
        reading: Reading,
    ) -> None:
        self.prescriptions = prescriptions
        self.referrals = referrals
        self.reading = reading

    async def report_prescriptions(
        self, organization_id: UUID, report: ReportPrescriptions
    ) -> ReportAccepted:
        outcomes: list[Stored] = []
        for item in report.prescriptions:
            ident = item_id("prescription", organization_id, item.clinic_prescription_id)
            fields = _fields(item, ident, organization_id)
            outcomes.append(
                await self.prescriptions.put(
                    str(ident), item.version, fields, item.issued_on.isoformat()
                )
            )
        return _accepted(outcomes)

    async def report_referrals(
        self, organization_id: UUID, report: ReportReferrals
    ) -> ReportAccepted:
        outcomes: list[Stored] = []
        for item in report.referrals:
            ident = item_id("referral", organization_id, item.clinic_referral_id)
            fields = _fields(item, ident, organization_id)
            outcomes.append(
                await self.referrals.put(
                    str(ident), item.version, fields, item.issued_on.isoformat()
                )
            )
        return _accepted(outcomes)

    async def list_prescriptions(self, query: ListPrescriptions) -> PrescriptionsPage:
        items, cursor = await self._page(
            self.prescriptions, PrescriptionView, "prescriptions", query
        )
        return PrescriptionsPage(items=items, next_cursor=cursor)

    async def list_referrals(self, query: ListReferrals) -> ReferralsPage:
        items, cursor = await self._page(self.referrals, ReferralView, "referrals", query)
        return ReferralsPage(items=items, next_cursor=cursor)

    async def _page(
        self,
        store: ClinicItemsRepository,
        view: type[ViewT],
        what: str,
        query: ListPrescriptions | ListReferrals,
    ) -> tuple[tuple[ViewT, ...], str | None]:
        """A page of `view`s of the patient, journaled as `what`; the cursor of the next."""
        decision = await self.reading.authorize(query.context, Action.READ_SERVICES)
        after = Position.decode(query.cursor) if query.cursor else None
        found = await store.page(decision.allowed_patient.snils, after, query.limit + 1)
        items = tuple(view.model_validate(doc) for doc in found[: query.limit])
        await self.reading.journal_read(decision, what, [i.id for i in items])
        if len(found) <= query.limit:
            return items, None
        last = items[-1]
        return items, Position(last.issued_on.isoformat(), str(last.id)).encode()


def _fields(item: BaseModel, ident: UUID, organization_id: UUID) -> dict[str, Any]:
    return {
        **item.model_dump(mode="json", exclude={"version"}),
        "id": str(ident),
        "organization_id": str(organization_id),
    }


def _accepted(outcomes: Sequence[Stored]) -> ReportAccepted:
    counts = Counter(outcomes)
    return ReportAccepted(
        created=counts[Stored.CREATED],
        updated=counts[Stored.UPDATED],
        unchanged=counts[Stored.UNCHANGED],
    )
