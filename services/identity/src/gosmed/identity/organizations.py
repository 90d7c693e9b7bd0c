"""Use cases of organizations' representatives: may a staff member act for an organization
(every decision journaled in the organization's journal), who is authorised, what was done."""

from uuid import UUID

from gosmed.contracts.access import AccessContext, Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.organizations import (
    AuthorizeOrganizationAction,
    ListOrganizationJournal,
    ListOrganizationStaff,
    OrganizationAction,
    OrganizationDecision,
    OrganizationJournalEntry,
    OrganizationJournalView,
    OrganizationStaffView,
    StaffAuthorityView,
)
from gosmed.identity.organization_rules import JournalEntry, decide_for_organization, short_name
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.repository import AccountRepository
from gosmed.identity.service import Clock

UNKNOWN_ACTOR = "неизвестная учётная запись"
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

    async def staff(self, request: ListOrganizationStaff) -> OrganizationStaffView:
        organization = await self._required(
            request.context, request.organization_id, "список сотрудников"
        )
        found = await self.organizations.authorities_of_organization(request.organization_id)
        items = []
        for authority in found:
            account = await self.accounts.get(authority.staff_id)
            items.append(
                StaffAuthorityView(
                    staff_id=authority.staff_id,
                    staff_name=short_name(account.full_name) if account else UNKNOWN_ACTOR,
                    power_of_attorney_number=authority.number,
                    scopes=tuple(sorted(authority.scopes)),
                    valid_from=authority.valid_from,
                    valid_until=authority.valid_until,
                    revoked=authority.revoked,
                )
            )
        return OrganizationStaffView(
            organization_id=request.organization_id,
            organization_name=organization,
            items=tuple(items),
        )

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
        if Role.OPERATOR not in context.roles:
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
