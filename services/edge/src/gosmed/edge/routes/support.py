"""Edge routes of support requests and contacts, served by identity: anyone files a request
(logged in or not), operators answer it."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gosmed.contracts.identity import support
from gosmed.edge.deps import (
    ClientAddressDep,
    IdentityDep,
    OptionalPrincipalDep,
    PrincipalDep,
    actor_context,
)

router = APIRouter(tags=["support"])


class SupportRequestBody(support.SupportRequestForm):
    model_config = ConfigDict(extra="forbid")


class SupportAnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=support.MAX_ANSWER,
        description="Ответ гражданину: придёт во входящие и на почту, если обращение связано "
        "с учётной записью.",
    )


@router.post(
    "/support/requests",
    status_code=201,
    response_model=support.SupportRequestFiled,
    summary="Обратиться в поддержку, если сведений нет или они неверны (со входом или без)",
)
async def file_support_request(
    body: SupportRequestBody,
    principal: OptionalPrincipalDep,
    address: ClientAddressDep,
    identity: IdentityDep,
) -> support.SupportRequestFiled:
    command = support.FileSupportRequest(
        form=support.SupportRequestForm.model_validate(body.model_dump()),
        account_id=principal.account_id if principal else None,
        client_address=address,
    )
    return await identity.call(support.FILE_SUPPORT_REQUEST, command)


@router.get(
    "/support/contacts",
    response_model=support.SupportContacts,
    summary="Горячая линия и МФЦ: вашего города, если вы вошли, иначе города `city` или все",
)
async def support_contacts(
    principal: OptionalPrincipalDep,
    identity: IdentityDep,
    city: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> support.SupportContacts:
    query = support.GetSupportContacts(
        account_id=principal.account_id if principal else None, city=city
    )
    return await identity.call(support.GET_SUPPORT_CONTACTS, query)


@router.get(
    "/operator/support-requests",
    response_model=support.SupportRequestsPage,
    summary="Операторам: обращения в поддержку, старые первыми",
)
async def operator_support_requests(
    principal: PrincipalDep,
    identity: IdentityDep,
    request_status: Annotated[
        support.SupportRequestStatus, Query(alias="status")
    ] = support.SupportRequestStatus.OPEN,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=support.MAX_OPERATOR_PAGE)] = 50,
) -> support.SupportRequestsPage:
    query = support.ListSupportRequests(
        context=actor_context(principal), status=request_status, cursor=cursor, limit=limit
    )
    return await identity.call(support.LIST_SUPPORT_REQUESTS, query)


@router.post(
    "/operator/support-requests/{request_id}/answer",
    response_model=support.SupportRequestView,
    summary="Операторам: ответить на обращение (во входящие и на почту гражданину)",
)
async def answer_support_request(
    request_id: UUID, body: SupportAnswerBody, principal: PrincipalDep, identity: IdentityDep
) -> support.SupportRequestView:
    command = support.AnswerSupportRequest(
        context=actor_context(principal), request_id=request_id, text=body.text
    )
    return await identity.call(support.ANSWER_SUPPORT_REQUEST, command)
