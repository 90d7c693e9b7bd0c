"""Use cases of powers of attorney: give, list, revoke, and an operator's verification."""

import logging
from typing import Literal
from uuid import UUID

from gosmed.contracts.access import Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.delegations import (
    CreateDelegation,
    DelegationStatus,
    DelegationsView,
    DelegationView,
    GetDelegation,
    ListDelegations,
    RevokeDelegation,
    VerifyDelegation,
)
from gosmed.identity.domain import Account, Delegation, delegation_refusal, initial_status
from gosmed.identity.service import Clock, Repositories

log = logging.getLogger(__name__)

NOT_FOUND = "Доверенность не найдена."


class DelegationService:
    def __init__(self, repos: Repositories, clock: Clock = utc_now) -> None:
        self.repos = repos
        self.clock = clock

    async def _view(self, delegation: Delegation, viewer: UUID) -> DelegationView:
        principal = await self.repos.account(delegation.principal_id)
        agent = await self.repos.account(delegation.agent_id)
        role: Literal["principal", "agent", "operator"] = "operator"
        if viewer == principal.id:
            role = "principal"
        elif viewer == agent.id:
            role = "agent"
        return DelegationView(
            delegation_id=delegation.id,
            principal_id=principal.id,
            principal_name=principal.full_name,
            agent_id=agent.id,
            agent_name=agent.full_name,
            basis=delegation.basis,
            scopes=tuple(sorted(delegation.scopes)),
            valid_from=delegation.valid_from,
            valid_until=delegation.valid_until,
            status=delegation.status_on(self.clock().date()),
            register_number=delegation.register_number,
            my_role=role,
        )

    async def create(self, request: CreateDelegation) -> DelegationView:
        principal = await self.repos.account(request.principal_id)
        agent = await self.repos.accounts.by_snils(request.agent_snils)
        if agent is None:
            raise ServiceError(
                ErrorCode.NOT_FOUND, "Учётная запись представителя с таким СНИЛС не найдена."
            )
        refusal = delegation_refusal(principal, agent, request.basis, self.clock().date())
        if refusal:
            raise ServiceError(ErrorCode.CONFLICT, refusal)
        delegation = Delegation(
            id=str(request.message_id),
            principal_id=principal.id,
            agent_id=agent.id,
            basis=request.basis,
            scopes=request.scopes,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
            status=initial_status(request.basis),
            register_number=request.register_number,
        )
        if await self.repos.grants.create_delegation(delegation):
            log.info("delegation %s created (%s)", delegation.id, delegation.basis.value)
        else:  # a repeated request: the one it created, as it is now
            delegation = await self._reload(delegation.id)
        return await self._view(delegation, principal.id)

    async def list(self, request: ListDelegations) -> DelegationsView:
        found = await self.repos.grants.delegations_of(request.account_id)
        return DelegationsView(
            delegations=tuple([await self._view(d, request.account_id) for d in found])
        )

    async def _visible(self, account_id: UUID, delegation_id: str) -> tuple[Delegation, Account]:
        """The delegation if the account is a party to it or an operator; else not found."""
        viewer = await self.repos.account(account_id)
        delegation = await self.repos.grants.delegation(delegation_id)
        if delegation is None or (
            viewer.id not in (delegation.principal_id, delegation.agent_id)
            and Role.OPERATOR not in viewer.roles
        ):
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        return delegation, viewer

    async def get(self, request: GetDelegation) -> DelegationView:
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        return await self._view(delegation, viewer.id)

    async def revoke(self, request: RevokeDelegation) -> DelegationView:
        delegation, viewer = await self._visible(request.account_id, request.delegation_id)
        if viewer.id not in (delegation.principal_id, delegation.agent_id):
            raise ServiceError(ErrorCode.FORBIDDEN, "Отозвать доверенность может только сторона.")
        live = {DelegationStatus.ACTIVE, DelegationStatus.PENDING_VERIFICATION}
        if not await self.repos.grants.change_status(delegation.id, live, DelegationStatus.REVOKED):
            raise ServiceError(ErrorCode.CONFLICT, "Доверенность уже отозвана.")
        log.info("delegation %s revoked", delegation.id)
        return await self._view(await self._reload(delegation.id), viewer.id)

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
        return await self._view(await self._reload(delegation.id), viewer.id)

    async def _reload(self, delegation_id: str) -> Delegation:
        delegation = await self.repos.grants.delegation(delegation_id)
        if delegation is None:
            raise ServiceError(ErrorCode.NOT_FOUND, NOT_FOUND)
        return delegation
