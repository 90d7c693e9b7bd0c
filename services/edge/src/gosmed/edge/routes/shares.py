"""Edge routes of a patient's shares with doctors, served by identity."""

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gosmed.contracts.identity import shares
from gosmed.edge.deps import IdentityDep, PrincipalDep, patient_context

router = APIRouter(tags=["shares"])


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    specialist_id: UUID = Field(description="Врач из реестра, которому открывается доступ.")
    scopes: frozenset[shares.ShareScope] = Field(
        min_length=1, description="Что врач может читать: услуги, анализы, файлы медкарты."
    )
    expires_at: AwareDatetime = Field(
        description=f"До какого момента, не более {shares.MAX_SHARE_DAYS} дней."
    )


@router.post(
    "/patients/{patient_id}/shares",
    status_code=201,
    response_model=shares.ShareView,
    summary="Открыть врачу доступ к услугам, анализам или файлам медкарты",
)
async def create_share(
    patient_id: str,
    body: ShareRequest,
    principal: PrincipalDep,
    identity: IdentityDep,
    response: Response,
) -> shares.ShareView:
    command = shares.CreateShare(
        context=patient_context(principal, patient_id),
        specialist_id=body.specialist_id,
        scopes=body.scopes,
        expires_at=body.expires_at,
    )
    view = await identity.call(shares.CREATE_SHARE, command)
    response.headers["Location"] = f"/api/v1/patients/{patient_id}/shares/{view.share_id}"
    return view


@router.get(
    "/patients/{patient_id}/shares",
    response_model=shares.SharesView,
    summary="Доступы, открытые врачам: действующие и закрытые",
)
async def list_shares(
    patient_id: str, principal: PrincipalDep, identity: IdentityDep
) -> shares.SharesView:
    query = shares.ListShares(context=patient_context(principal, patient_id))
    return await identity.call(shares.LIST_SHARES, query)


@router.delete(
    "/patients/{patient_id}/shares/{share_id}",
    response_model=shares.ShareView,
    summary="Закрыть доступ врачу: со следующего запроса",
)
async def revoke_share(
    patient_id: str, share_id: UUID, principal: PrincipalDep, identity: IdentityDep
) -> shares.ShareView:
    command = shares.RevokeShare(context=patient_context(principal, patient_id), share_id=share_id)
    return await identity.call(shares.REVOKE_SHARE, command)
