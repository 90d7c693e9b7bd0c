"""Edge routes of prescriptions and referrals, served by the records service."""

from typing import Annotated

from fastapi import APIRouter, Query

from gosmed.contracts.records import prescriptions
from gosmed.edge.deps import PrincipalDep, RecordsDep, patient_context

router = APIRouter(tags=["records"])


@router.get(
    "/patients/{patient_id}/prescriptions",
    response_model=prescriptions.PrescriptionsPage,
    summary="Назначения лекарств (в том числе льготные), новые сначала",
)
async def list_prescriptions(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=prescriptions.MAX_PAGE)] = 20,
) -> prescriptions.PrescriptionsPage:
    query = prescriptions.ListPrescriptions(
        context=patient_context(principal, patient_id), cursor=cursor, limit=limit
    )
    return await records.call(prescriptions.LIST_PRESCRIPTIONS, query)


@router.get(
    "/patients/{patient_id}/referrals",
    response_model=prescriptions.ReferralsPage,
    summary="Направления: к кому, зачем, до какого дня действуют; новые сначала",
)
async def list_referrals(
    patient_id: str,
    principal: PrincipalDep,
    records: RecordsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=prescriptions.MAX_PAGE)] = 20,
) -> prescriptions.ReferralsPage:
    query = prescriptions.ListReferrals(
        context=patient_context(principal, patient_id), cursor=cursor, limit=limit
    )
    return await records.call(prescriptions.LIST_REFERRALS, query)
