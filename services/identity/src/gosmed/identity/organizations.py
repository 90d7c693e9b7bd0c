"""Use cases of organizations' representatives: may a staff member act for an organization
(every decision journaled in the organization's journal), who is authorised (operators register
and revoke the organizations' powers of attorney), what was done."""

import logging
from uuid import UUID

from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.organizations import (
    AuthorizeOrganizationAction,
    GrantStaffAuthority,
    ListOrganizationJournal,
    ListOrganizationStaff,
    OrganizationAction,
    OrganizationDecision,
    OrganizationJournalEntry,
    OrganizationJournalView,
    OrganizationStaffView,
    RevokeStaffAuthority,
    StaffAuthorityView,
)
from gosmed.identity.organization_rules import (
    JournalEntry,
    StaffAuthority,
    decide_for_organization,
    short_name,
)
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.repository import AccountRepository
from gosmed.identity.service import Clock

log = logging.getLogger(__name__)

UNKNOWN_ACTOR = "неизвестная учётная запись"
OPERATORS_ONLY = "Доверенности организаций регистрируют только операторы портала."
NO_ORGANIZATION = "У организации нет корпоративной учётной записи."
AUTHORITY_NOT_FOUND = "Доверенность организации с таким номером не найдена."
NO_CORPORATE_ACCOUNT = "организация без корпоративной учётной записи"


class OrganizationService:
    def __init__(
        self,
        organizations: OrganizationsRepository,
        accounts: AccountRepository,
        clock: Clock = utc_now,
    ) -> None:
        self.organizations = organizations
        self.accounts = accounts
        self.clock = clock

    async def authorize(self, request: AuthorizeOrganizationAction) -> OrganizationDecision:
        """Decide on the actor's powers of attorney and journal the decision."""
        return await self._decide(
            request.context, request.organization_id, request.action, request.subject
        )

    async def grant(self, request: GrantStaffAuthority) -> StaffAuthorityView:
        """An operator registers the organization's power of attorney for a staff account."""
        await self._operator(request.context)
        if await self.organizations.organization(request.organization_id) is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NO_ORGANIZATION)
        staff = await self.accounts.by_snils(request.staff_snils)
        if staff is None:
            raise ServiceError(ErrorCode.NOT_FOUND, "Учётная запись с таким СНИЛС не найдена.")
        authority = StaffAuthority(
            number=request.number,
            organization_id=request.organization_id,
            staff_id=staff.id,
            scopes=request.scopes,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
        )
        if not await self.organizations.create_authority(authority):
            raise ServiceError(ErrorCode.CONFLICT, "Доверенность с таким номером уже есть.")
        log.info("power of attorney of organization %s registered", request.organization_id)
        return await self._view(authority)

    async def revoke(self, request: RevokeStaffAuthority) -> StaffAuthorityView:
        await self._operator(request.context)
        revoked = await self.organizations.revoke(request.organization_id, request.number)
        if revoked is None:
            raise ServiceError(ErrorCode.NOT_FOUND, AUTHORITY_NOT_FOUND)
        log.info("power of attorney of organization %s revoked", request.organization_id)
        return await self._view(revoked)

    async def staff(self, request: ListOrganizationStaff) -> OrganizationStaffView:
        organization = await self._required(
            request.context, request.organization_id, "список сотрудников"
        )
        found = await self.organizations.authorities_of_organization(request.organization_id)
        return OrganizationStaffView(
            organization_id=request.organization_id,
            organization_name=organization,
            items=tuple([await self._view(authority) for authority in found]),
        )

    async def _view(self, authority: StaffAuthority) -> StaffAuthorityView:
        account = await self.accounts.get(authority.staff_id)
        return StaffAuthorityView(
            staff_id=authority.staff_id,
            staff_name=short_name(account.full_name) if account else UNKNOWN_ACTOR,
            power_of_attorney_number=authority.number,
            scopes=tuple(sorted(authority.scopes)),
            valid_from=authority.valid_from,
            valid_until=authority.valid_until,
            revoked=authority.revoked,
        )

    async def _is_operator(self, context: AccessContext) -> bool:
        """By the account's own roles in identity, not the roles the caller passed."""
        actor = await self.accounts.get(context.actor_id)
        return actor is not None and Role.OPERATOR in actor.roles

    async def _operator(self, context: AccessContext) -> None:
        if not await self._is_operator(context):
            raise ServiceError(ErrorCode.FORBIDDEN, OPERATORS_ONLY)

    async def journal(self, request: ListOrganizationJournal) -> OrganizationJournalView:
        await self._required(request.context, request.organization_id, "журнал действий")
        found = await self.organizations.journal_of(request.organization_id, request.limit)
        return OrganizationJournalView(
            organization_id=request.organization_id,
            items=tuple(
                OrganizationJournalEntry(
                    at=e.at,
                    actor_id=e.actor_id,
                    actor_name=e.actor_name,
                    action=e.action,
                    subject=e.subject,
                    allowed=e.allowed,
                    basis_label=e.basis_label,
                    reason=e.reason,
                )
                for e in found
            ),
        )

    async def _required(self, context: AccessContext, organization_id: UUID, subject: str) -> str:
        """The organization's name when the actor is an operator or may see its figures
        (journaled); else 403."""
        if not await self._is_operator(context):
            decision = await self._decide(
                context, organization_id, OrganizationAction.SEE_FIGURES, subject
            )
            if not decision.allowed:
                raise ServiceError(ErrorCode.NOT_ORGANIZATION_STAFF, decision.reason)
        organization = await self.organizations.organization(organization_id)
        return organization.name if organization else NO_CORPORATE_ACCOUNT

    async def _decide(
        self,
        context: AccessContext,
        organization_id: UUID,
        action: OrganizationAction,
        subject: str | None,
    ) -> OrganizationDecision:
        now = self.clock()
        actor = await self.accounts.get(context.actor_id)
        authorities = await self.organizations.authorities_of_staff(actor.id) if actor else []
        decision = decide_for_organization(
            context.actor_id,
            await self.organizations.organization(organization_id),
            organization_id,
            authorities,
            action,
            now.date(),
        )
        await self.organizations.write(
            JournalEntry(
                organization_id=organization_id,
                at=now,
                actor_id=context.actor_id,
                actor_name=short_name(actor.full_name) if actor else UNKNOWN_ACTOR,
                action=action,
                subject=subject,
                allowed=decision.allowed,
                basis_label=decision.basis_label,
                reason=decision.reason,
            )
        )
        return decision
