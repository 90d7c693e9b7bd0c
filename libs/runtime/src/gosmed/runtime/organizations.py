"""Acting for a medical organization on a staff member's request: services ask identity
(which decides on the organization's power of attorney and journals the decision) before they
do what the organization's broker integration could do through the clinics' door."""

from uuid import UUID

from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.organizations import (
    AUTHORIZE_ORGANIZATION_ACTION,
    AuthorizeOrganizationAction,
    OrganizationAction,
    OrganizationDecision,
)
from gosmed.runtime.rpc import ServiceClient


async def act_for_organization(
    identity: ServiceClient,
    context: AccessContext,
    organization_id: UUID,
    action: OrganizationAction,
    subject: str | None = None,
) -> OrganizationDecision:
    """Identity's decision that `context`'s actor may do `action` for the organization; a
    denial is `not_organization_staff` (403) with identity's reason."""
    decision = await identity.call(
        AUTHORIZE_ORGANIZATION_ACTION,
        AuthorizeOrganizationAction(
            context=context, organization_id=organization_id, action=action, subject=subject
        ),
    )
    if not decision.allowed:
        raise ServiceError(ErrorCode.NOT_ORGANIZATION_STAFF, decision.reason)
    return decision
