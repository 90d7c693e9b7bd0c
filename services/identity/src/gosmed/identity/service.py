"""Identity's shared parts (repositories, clock, gateways) and the access decisions."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from gosmed.contracts.access import Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Authorize
from gosmed.contracts.identity.auth import (
    ActablePatient,
    GetProfile,
    ListPatients,
    PatientsView,
    Profile,
)
from gosmed.identity import actors
from gosmed.identity.domain import (
    NO_BASIS,
    AccessFacts,
    Account,
    InspectorOrder,
    InsurerConsent,
    Share,
    decide,
    grants,
)
from gosmed.identity.login_repository import (
    FailureRepository,
    LoginAttemptRepository,
    SmsChallengeRepository,
)
from gosmed.identity.organizations_repository import OrganizationsRepository
from gosmed.identity.repository import AccountRepository, GrantRepository, SessionRepository
from gosmed.identity.shares_repository import SharesRepository
from gosmed.runtime.crypto import KeyRing

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str, sent_at: datetime) -> None: ...


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass
class Repositories:
    accounts: AccountRepository
    attempts: LoginAttemptRepository
    failures: FailureRepository
    sessions: SessionRepository
    grants: GrantRepository
    shares: SharesRepository
    sms_challenges: SmsChallengeRepository

    @classmethod
    def over(cls, database: object, keys: KeyRing | None = None) -> "Repositories":
        """The repositories on `database`; TOTP secrets sealed under `keys` (default: a key
        generated for this process, for tests)."""
        return cls(
            AccountRepository(database, keys or KeyRing.generated()),
            LoginAttemptRepository(database),
            FailureRepository(database),
            SessionRepository(database),
            GrantRepository(database),
            SharesRepository(database),
            SmsChallengeRepository(database),
        )

    async def account(self, account_id: UUID) -> Account:
        """An existing account, or NOT_FOUND."""
        account = await self.accounts.get(account_id)
        if account is None:
            raise ServiceError(ErrorCode.NOT_FOUND, "Учётная запись не найдена.")
        return account

    async def ensure_indexes(self) -> None:
        for repository in (
            self.accounts,
            self.attempts,
            self.failures,
            self.sessions,
            self.grants,
            self.shares,
            self.sms_challenges,
        ):
            await repository.ensure_indexes()


class AccessService:
    """Profiles and the access decisions every service asks for."""

    def __init__(
        self,
        repos: Repositories,
        clock: Clock = utc_now,
        organizations: OrganizationsRepository | None = None,
    ) -> None:
        self.repos = repos
        self.clock = clock
        self.organizations = organizations

    async def _staff_organization(self, actor: Account, patient: Account) -> str | None:
        """The name of the organization a clinic's staff member acting for someone else works
        for (a power of attorney of it in force), so the patient's journal names it."""
        if (
            self.organizations is None
            or actor.id == patient.id
            or Role.ORGANIZATION_STAFF not in actor.roles
        ):
            return None
        today = self.clock().date()
        for authority in await self.organizations.authorities_of_staff(actor.id):
            if authority.in_force(today):
                organization = await self.organizations.organization(authority.organization_id)
                if organization is not None:
                    return organization.name
        return None

    async def _facts(self, actor: Account, patient: Account) -> AccessFacts:
        """Only what can matter: consents of insurers, orders of inspectors, shares with
        doctors."""
        grants_repo = self.repos.grants
        consents: tuple[InsurerConsent, ...] = ()
        orders: tuple[InspectorOrder, ...] = ()
        if Role.INSURER in actor.roles:
            consents = tuple(await grants_repo.insurer_consents_of(actor.id))
        if Role.INSPECTOR in actor.roles:
            orders = tuple(await grants_repo.inspector_orders_of(actor.id))
        shares: tuple[Share, ...] = ()
        if Role.DOCTOR in actor.roles and actor.specialist_id is not None:
            shares = tuple(await self.repos.shares.to_specialist(actor.specialist_id, self.clock()))
        return AccessFacts(
            actor=actor,
            patient=patient,
            delegations=tuple(await grants_repo.delegations_to(actor.id)),
            insurer_consents=consents,
            inspector_orders=orders,
            shares=shares,
        )

    async def authorize(self, request: Authorize) -> AccessDecision:
        context = request.context
        actor = await self.repos.accounts.get(context.actor_id)
        patient = await self.repos.accounts.get(context.patient_id or context.actor_id)
        if actor is None or patient is None:
            return AccessDecision(allowed=False, actor_id=context.actor_id, reason=NO_BASIS)
        decision = decide(
            await self._facts(actor, patient),
            request.action,
            self.clock(),
            basis=context.basis,
            document_id=context.basis_document_id,
        )
        if not decision.allowed or decision.grant is None:
            return AccessDecision(allowed=False, actor_id=actor.id, reason=decision.reason)
        grant = decision.grant
        return AccessDecision(
            allowed=True,
            actor_id=actor.id,
            actor=actors.describe(
                actor,
                actors.role_for(grant.basis),
                await self._staff_organization(actor, patient),
            ),
            patient=patient.ref(),
            basis=grant.basis,
            basis_document_id=grant.document_id,
            basis_label=grant.label,
            sees_restricted_categories=grant.sees_restricted_categories,
        )

    async def profile(self, request: GetProfile) -> Profile:
        account = await self.repos.account(request.account_id)
        return Profile(
            account_id=account.id,
            full_name=account.full_name,
            birth_date=account.birth_date,
            snils=account.snils,
            oms_policy=account.oms_policy,
            phone=account.phone,
            email=account.email,
            confirmation_level=account.confirmation_level,
            roles=account.roles,
            totp_enabled=account.totp_secret is not None,
        )

    async def patients(self, request: ListPatients) -> PatientsView:
        actor = await self.repos.account(request.account_id)
        facts = await self._facts(actor, actor)
        candidate_ids = (
            {actor.id}
            | {c.id for c in await self.repos.accounts.children_of(actor.id)}
            | {d.principal_id for d in facts.delegations}
            | {c.patient_id for c in facts.insurer_consents}
            | {p for o in facts.inspector_orders for p in o.patient_ids}
            | {s.patient_id for s in facts.shares}
        )
        now = self.clock()
        found: list[ActablePatient] = []
        for patient in sorted(await self.repos.accounts.many(candidate_ids), key=_own_first(actor)):
            for grant in grants(
                AccessFacts(
                    actor,
                    patient,
                    facts.delegations,
                    facts.insurer_consents,
                    facts.inspector_orders,
                ),
                now,
            ):
                found.append(
                    ActablePatient(
                        patient=patient.ref(),
                        basis=grant.basis,
                        basis_document_id=grant.document_id,
                        basis_label=grant.label,
                        scopes=tuple(sorted(grant.scopes)),
                        valid_until=grant.valid_until,
                    )
                )
        return PatientsView(patients=tuple(found))


def _own_first(actor: Account) -> Callable[[Account], tuple[bool, str]]:
    return lambda patient: (patient.id != actor.id, patient.full_name)
