"""Use cases of powers of attorney: give, list, revoke, and an operator's verification."""

import logging
from datetime import timedelta
from typing import Literal
from uuid import UUID, uuid5

from gosmed.contracts.access import Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.delegations import (
    AcceptDelegation,
    CreateDelegation,
    DelegationBasis,
    DelegationStatus,
    DelegationsView,
    DelegationView,
    GetDelegation,
    ListDelegations,
    RevokeDelegation,
    VerifyDelegation,
)
from gosmed.contracts.identity.notifications import NotificationChannel, SendNotification
from gosmed.identity.domain import (
    NOT_A_PARENT,
    NOT_CONFIRMED_TO_GRANT,
    Account,
    Delegation,
    grant_refusal,
    initial_status,
    status_once_accepted,
)
from gosmed.identity.notifications import NotificationService
from gosmed.identity.service import Clock, Repositories
from gosmed.identity.settings import IdentitySettings
from gosmed.identity.stepup import StepUp, refusal
from gosmed.runtime.masking import mask_snils
from gosmed.runtime.security_log import security_event

log = logging.getLogger(__name__)

NOT_FOUND = "Доверенность не найдена."
NO_AGENT = UUID(int=0)  # the agent of a delegation nobody has accepted yet
TOO_MANY = "Слишком много доверенностей выдано за короткое время. Повторите позже."
OFFERED_TITLE = "Вам выдана доверенность"
OFFERED_BODY = (
    "{principal} выдал(а) вам доверенность на доступ к медицинским сведениям. "
    "Примите её в разделе «Доверенности», если согласны."
)


class DelegationService:
    def __init__(
        self,
        repos: Repositories,
        notifications: NotificationService,
        clock: Clock = utc_now,
        settings: IdentitySettings | None = None,
    ) -> None:
        self.repos = repos
        self.notifications = notifications
        self.clock = clock
        self.settings = settings or IdentitySettings()
        self.step_up = StepUp(repos, self.settings, clock)

    async def _view(self, delegation: Delegation, viewer: Account) -> DelegationView:
        principal = await self.repos.account(delegation.principal_id)
        agent = await self.repos.account(delegation.agent_id) if delegation.agent_id else None
        role: Literal["principal", "agent", "operator"] = "operator"
        if viewer.id == principal.id:
            role = "principal"
        elif _party(viewer, delegation):
            role = "agent"
        snils = agent.snils if agent else delegation.agent_snils
        return DelegationView(
            delegation_id=delegation.id,
            principal_id=principal.id,
            principal_name=principal.full_name,
            agent_id=agent.id if agent else NO_AGENT,
            agent_name=agent.full_name if agent else "",
            agent_snils=mask_snils(snils) if snils else None,
            basis=delegation.basis,
            scopes=tuple(sorted(delegation.scopes)),
            valid_from=delegation.valid_from,
            valid_until=delegation.valid_until,
            status=delegation.status_on(self.clock().date()),
            register_number=delegation.register_number,
            my_role=role,
        )

    async def create(self, request: CreateDelegation) -> DelegationView:
        """The same answer whether or not the SNILS has an account: the delegation waits for
        its agent either way (a teenager's consent goes to a parent on record)."""
        existing = await self.repos.grants.delegation(str(request.message_id))
        principal = await self.repos.account(request.principal_id)
        if existing is not None:  # a repeated request: the one it created, as it is now
            if existing.principal_id != principal.id:
                raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
            return await self._view(existing, principal)
        now = self.clock()
        refused = grant_refusal(principal, request.agent_snils, request.basis, now.date())
        if refused == NOT_CONFIRMED_TO_GRANT:
            raise refusal(refused, "account_not_confirmed")
        if refused:
            raise ServiceError(ErrorCode.CONFLICT, refused)
        await self.step_up.require_fresh(principal, request.session_id, request.code)
        window = timedelta(seconds=self.settings.delegation_create_window_seconds)
        given = await self.repos.grants.created_since(principal.id, now - window)
        if given >= self.settings.delegation_create_limit:
            security_event("delegation_rate_limited", principal_id=str(principal.id))
            raise ServiceError(ErrorCode.RATE_LIMITED, TOO_MANY)
        agent_id: UUID | None = None
        if request.basis == DelegationBasis.MINOR_CONSENT:
            parents = await self.repos.accounts.many(set(principal.parent_ids))
            agent_id = next((p.id for p in parents if p.snils == request.agent_snils), None)
            if agent_id is None:
                raise ServiceError(ErrorCode.CONFLICT, NOT_A_PARENT)
        delegation = Delegation(
            id=str(request.message_id),
            principal_id=principal.id,
            agent_id=agent_id,
            agent_snils=request.agent_snils,
            basis=request.basis,
            scopes=request.scopes,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            status=initial_status(request.basis),
            register_number=request.register_number,
            created_at=now,
        )
        if await self.repos.grants.create_delegation(delegation):
            log.info("delegation %s created (%s)", delegation.id, delegation.basis.value)
            security_event(
                "delegation_granted",
                delegation_id=delegation.id,
                principal_id=str(principal.id),
                basis=delegation.basis.value,
                status=delegation.status.value,
            )
            await self._tell_agent(delegation, principal)
        else:  # the same request, concurrently
            delegation = await self._reload(delegation.id)
        return await self._view(delegation, principal)

    async def _tell_agent(self, delegation: Delegation, principal: Account) -> None:
        """The agent learns of a delegation waiting for them (inbox, SMS, e-mail); a SNILS
        without an account is dropped by the inbox, and the grantor's answer is the same."""
        if delegation.status != DelegationStatus.AWAITING_AGENT or not delegation.agent_snils:
            return
        await self.notifications.accept(
            SendNotification(
                message_id=uuid5(principal.id, f"delegation-offered:{delegation.id}"),
                recipient_snils=delegation.agent_snils,
                title=OFFERED_TITLE,
                body=OFFERED_BODY.format(principal=principal.full_name),
                category="delegation_offered",
                link=f"/delegations/{delegation.id}",
                channels=frozenset(NotificationChannel),
            )
        )

    async def list(self, request: ListDelegations) -> DelegationsView:
        account = await self.repos.account(request.account_id)
        found = await self.repos.grants.delegations_of(account.id, account.snils)
        return DelegationsView(delegations=tuple([await self._view(d, account) for d in found]))

    async def _visible(self, account_id: UUID, delegation_id: str) -> tuple[Delegation, Account]:
        """The delegation if the account is a party to it (or the holder of the SNILS it was
        given to, before it is accepted) or an operator; else not found."""
        viewer = await self.repos.account(account_id)
        delegation = await self.repos.grants.delegation(delegation_id)
        if delegation is None or (
            not _party(viewer, delegation) and Role.OPERATOR not in viewer.roles
        ):
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        return delegation, viewer

    async def get(self, request: GetDelegation) -> DelegationView:
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        return await self._view(delegation, viewer)

    async def revoke(self, request: RevokeDelegation) -> DelegationView:
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        if not _party(viewer, delegation):
            raise ServiceError(ErrorCode.FORBIDDEN, "Отозвать доверенность может только сторона.")
        live = {
            DelegationStatus.ACTIVE,
            DelegationStatus.PENDING_VERIFICATION,
            DelegationStatus.AWAITING_AGENT,
        }
        if not await self.repos.grants.change_status(delegation.id, live, DelegationStatus.REVOKED):
            raise ServiceError(ErrorCode.CONFLICT, "Доверенность уже отозвана.")
        log.info("delegation %s revoked", delegation.id)
        security_event(
            "delegation_revoked",
            delegation_id=delegation.id,
            by="principal" if viewer.id == delegation.principal_id else "agent",
            actor_id=str(viewer.id),
        )
        return await self._view(await self._reload(delegation.id), viewer)

    async def accept(self, request: AcceptDelegation) -> DelegationView:
        """The holder of the SNILS accepts: now bound to their account (and named), then in
        force or (a signed or notarized one, a guardian's decision) waiting for an operator."""
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        if viewer.id == delegation.principal_id or delegation.agent_snils != viewer.snils:
            raise ServiceError(
                ErrorCode.FORBIDDEN, "Принять доверенность может только представитель."
            )
        to = status_once_accepted(delegation.basis)
        if not await self.repos.grants.accept(delegation.id, viewer.id, viewer.snils, to):
            raise ServiceError(
                ErrorCode.CONFLICT, "Доверенность не ожидает согласия представителя."
            )
        log.info("delegation %s accepted by its agent", delegation.id)
        security_event("delegation_accepted", delegation_id=delegation.id, agent_id=str(viewer.id))
        return await self._view(await self._reload(delegation.id), viewer)

    async def verify(self, request: VerifyDelegation) -> DelegationView:
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        if Role.OPERATOR not in viewer.roles:
            raise ServiceError(ErrorCode.FORBIDDEN, "Проверять доверенности может только оператор.")
        pending = {DelegationStatus.PENDING_VERIFICATION}
        if not await self.repos.grants.change_status(
            delegation.id, pending, DelegationStatus.ACTIVE
        ):
            raise ServiceError(ErrorCode.CONFLICT, "Доверенность не ожидает проверки.")
        log.info("delegation %s verified by an operator", delegation.id)
        security_event(
            "delegation_verified", delegation_id=delegation.id, operator_id=str(viewer.id)
        )
        return await self._view(await self._reload(delegation.id), viewer)

    async def _reload(self, delegation_id: str) -> Delegation:
        delegation = await self.repos.grants.delegation(delegation_id)
        if delegation is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        return delegation


def _party(viewer: Account, delegation: Delegation) -> bool:
    """The principal, the bound agent, or the holder of the SNILS of one not accepted yet."""
    if viewer.id in (delegation.principal_id, delegation.agent_id):
        return True
    return delegation.agent_id is None and delegation.agent_snils == viewer.snils
