"""Accounts, delegations and the access rules: who may do what for whom, and on which basis."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from gosmed.contracts.access import LegalBasis, Role
from gosmed.contracts.identity.access import Action, ConfirmationLevel, PatientRef
from gosmed.contracts.identity.consents import RequestStatus
from gosmed.contracts.identity.delegations import DelegationBasis, DelegationStatus
from gosmed.contracts.identity.shares import MAX_SHARE_DAYS, ShareScope

# Russian law on medical confidentiality (323-FZ, art. 54): from 15 a patient decides alone.
AGE_OF_MEDICAL_CONSENT = 15
ALL_ACTIONS = frozenset(Action)
READ_ONLY_ACTIONS = frozenset(
    {Action.READ_SERVICES, Action.DOWNLOAD_DOCUMENTS, Action.READ_LAB_RESULTS}
)

NOT_CONFIRMED = (
    "Медицинские данные доступны только с подтверждённой учётной записью. Подтвердите её "
    "в центре обслуживания, через банк или электронной подписью."
)
NO_BASIS = "Нет основания для доступа к данным этого пациента."
ACTION_NOT_COVERED = "Основание доступа не включает это действие."


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class Account:
    id: UUID
    full_name: str
    birth_date: date
    snils: str
    oms_policy: str | None
    phone: str | None
    email: str | None
    confirmation_level: ConfirmationLevel
    roles: frozenset[Role] = frozenset({Role.CITIZEN})
    parent_ids: frozenset[UUID] = frozenset()
    password_hash: str | None = None
    totp_secret: str | None = None
    organization: str | None = None  # the insurer's or inspector's organization
    city: str | None = None
    specialist_id: UUID | None = None  # a doctor's registry specialist
    inn: str | None = None

    def ref(self) -> PatientRef:
        return PatientRef(
            account_id=self.id,
            snils=self.snils,
            oms_policy=self.oms_policy,
            full_name=self.full_name,
            birth_date=self.birth_date,
        )


@dataclass(frozen=True)
class Delegation:
    """A power of attorney (or a teenager's consent) from a principal (patient) to an agent."""

    id: str
    principal_id: UUID
    agent_id: UUID | None  # None until the agent accepts
    basis: DelegationBasis
    scopes: frozenset[Action]
    valid_from: date
    valid_until: date
    status: DelegationStatus
    register_number: str | None = None
    agent_snils: str | None = None  # whom it was given to (before an account was bound)
    created_at: datetime | None = None

    def status_on(self, day: date) -> DelegationStatus:
        if self.status == DelegationStatus.ACTIVE and day > self.valid_until:
            return DelegationStatus.EXPIRED
        return self.status

    def in_force(self, day: date) -> bool:
        return self.status_on(day) == DelegationStatus.ACTIVE and self.valid_from <= day

    @property
    def label(self) -> str:
        match self.basis:
            case DelegationBasis.NOTARIZED:
                return f"нотариальная доверенность № {self.register_number}"
            case DelegationBasis.QUALIFIED_SIGNATURE:
                return f"доверенность с квалифицированной ЭП № {self.id}"
            case DelegationBasis.GUARDIAN_DECISION:
                return f"решение об опеке № {self.register_number or self.id}"
            case DelegationBasis.MINOR_CONSENT:
                return f"согласие пациента старше 15 лет № {self.id}"


NEEDS_VERIFICATION = frozenset(
    {
        DelegationBasis.NOTARIZED,
        DelegationBasis.GUARDIAN_DECISION,
        DelegationBasis.QUALIFIED_SIGNATURE,
    }
)
ADULTHOOD = 18
NOT_CONFIRMED_TO_GRANT = (
    "Выдать доверенность можно только с подтверждённой учётной записью. Подтвердите её в центре "
    "обслуживания, через банк или электронной подписью."
)
NOT_A_PARENT = "Согласие этого вида даётся только родителю."


def initial_status(basis: DelegationBasis) -> DelegationStatus:
    """A teenager's consent for a parent acts at once (the parent is on record); any other
    delegation first waits for its agent to accept it."""
    if basis == DelegationBasis.MINOR_CONSENT:
        return DelegationStatus.ACTIVE
    return DelegationStatus.AWAITING_AGENT


def status_once_accepted(basis: DelegationBasis) -> DelegationStatus:
    """A notarized or signed power of attorney or a guardian's decision waits for an operator
    after the agent accepts it."""
    if basis in NEEDS_VERIFICATION:
        return DelegationStatus.PENDING_VERIFICATION
    return DelegationStatus.ACTIVE


def grant_refusal(
    principal: Account, agent_snils: str, basis: DelegationBasis, day: date
) -> str | None:
    """Why `principal` may not give a delegation to the holder of `agent_snils`, judged on the
    principal alone (whether the SNILS has an account is never told), or None."""
    if principal.confirmation_level != ConfirmationLevel.CONFIRMED:
        return NOT_CONFIRMED_TO_GRANT
    if principal.snils == agent_snils:
        return "Нельзя выдать доверенность самому себе."
    if basis == DelegationBasis.MINOR_CONSENT and not (
        AGE_OF_MEDICAL_CONSENT <= age_on(principal.birth_date, day) < ADULTHOOD
    ):
        return "Согласие для родителя даёт пациент от 15 до 18 лет."
    return None


def delegation_refusal(
    principal: Account, agent: Account, basis: DelegationBasis, day: date
) -> str | None:
    """Why `principal` may not give `agent` this delegation, or None."""
    refusal = grant_refusal(principal, agent.snils, basis, day)
    if refusal:
        return refusal
    if principal.id == agent.id:
        return "Нельзя выдать доверенность самому себе."
    if basis == DelegationBasis.MINOR_CONSENT and agent.id not in principal.parent_ids:
        return NOT_A_PARENT
    return None


@dataclass(frozen=True)
class InsurerConsent:
    """An insurer's access: a contract, the patient's consent and a confirmed request."""

    id: str
    insurer_id: UUID
    patient_id: UUID
    contract_number: str
    contract_valid_until: date
    consent_valid_until: date
    scopes: frozenset[Action]
    revoked: bool = False
    request_confirmed_until: datetime | None = None
    access_requested_at: datetime | None = None

    def request_status(self, now: datetime) -> RequestStatus:
        if self.request_confirmed_until is not None and now <= self.request_confirmed_until:
            return RequestStatus.CONFIRMED
        if self.access_requested_at is not None:
            return RequestStatus.REQUESTED
        return RequestStatus.NONE

    @property
    def valid_until(self) -> date:
        return min(self.contract_valid_until, self.consent_valid_until)

    def in_force(self, now: datetime) -> bool:
        today = now.date()
        return (
            not self.revoked
            and today <= self.contract_valid_until
            and today <= self.consent_valid_until
            and self.request_confirmed_until is not None
            and now <= self.request_confirmed_until
        )


@dataclass(frozen=True)
class InspectorOrder:
    """A state inspector's order: read-only access to the patients it names, for a period."""

    id: str
    inspector_id: UUID
    number: str
    order_date: date
    patient_ids: frozenset[UUID]
    scopes: frozenset[Action]
    valid_from: date
    valid_until: date
    revoked: bool = False

    def in_force(self, day: date) -> bool:
        return not self.revoked and self.valid_from <= day <= self.valid_until


SHARED_ACTIONS = {
    ShareScope.SERVICES: Action.READ_SERVICES,
    ShareScope.LAB_RESULTS: Action.READ_LAB_RESULTS,
    ShareScope.FILES: Action.READ_FILES,
}


@dataclass(frozen=True)
class Share:
    """A patient's data opened to a doctor (a registry specialist) until `expires_at`."""

    id: str
    patient_id: UUID
    specialist_id: UUID
    scopes: frozenset[ShareScope]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    @property
    def actions(self) -> frozenset[Action]:
        return frozenset(SHARED_ACTIONS[scope] for scope in self.scopes)

    @property
    def label(self) -> str:
        return f"доступ, открытый пациентом врачу до {self.expires_at:%d.%m.%Y}"


def share_refusal(expires_at: datetime, now: datetime) -> str | None:
    """Why a share ending at `expires_at` may not be opened at `now`, or None."""
    if expires_at <= now:
        return "Срок доступа уже прошёл."
    if expires_at > now + timedelta(days=MAX_SHARE_DAYS):
        return f"Доступ врачу открывается не более чем на {MAX_SHARE_DAYS} дней."
    return None


@dataclass(frozen=True)
class Grant:
    """One legal basis on which an actor may act for a patient, and what it covers."""

    basis: LegalBasis
    label: str
    scopes: frozenset[Action]
    document_id: str | None = None
    sees_restricted_categories: bool = False
    valid_until: date | None = None


@dataclass(frozen=True)
class AccessFacts:
    """What identity knows about an actor and a patient, gathered before deciding."""

    actor: Account
    patient: Account
    delegations: tuple[Delegation, ...] = ()
    insurer_consents: tuple[InsurerConsent, ...] = ()
    inspector_orders: tuple[InspectorOrder, ...] = ()
    shares: tuple[Share, ...] = ()


def grants(facts: AccessFacts, now: datetime) -> list[Grant]:
    """Every basis on which `facts.actor` may act for `facts.patient` at `now`."""
    actor, patient, today = facts.actor, facts.patient, now.date()
    found: list[Grant] = []
    if actor.id == patient.id:
        found.append(
            Grant(LegalBasis.OWN_ACCOUNT, "собственная учётная запись", ALL_ACTIONS, None, True)
        )
    if actor.id in patient.parent_ids and age_on(patient.birth_date, today) < (
        AGE_OF_MEDICAL_CONSENT
    ):
        found.append(Grant(LegalBasis.PARENT_OF_MINOR, "родитель ребёнка до 15 лет", ALL_ACTIONS))
    for delegation in facts.delegations:
        if (
            delegation.agent_id == actor.id
            and delegation.principal_id == patient.id
            and delegation.in_force(today)
        ):
            found.append(
                Grant(
                    LegalBasis.POWER_OF_ATTORNEY,
                    delegation.label,
                    delegation.scopes,
                    delegation.id,
                    valid_until=delegation.valid_until,
                )
            )
    if Role.INSURER in actor.roles:
        for consent in facts.insurer_consents:
            if (
                consent.insurer_id == actor.id
                and consent.patient_id == patient.id
                and consent.in_force(now)
            ):
                found.append(
                    Grant(
                        LegalBasis.INSURER_CONSENT,
                        f"согласие пациента по договору № {consent.contract_number}",
                        consent.scopes & READ_ONLY_ACTIONS,
                        consent.id,
                        valid_until=min(consent.contract_valid_until, consent.consent_valid_until),
                    )
                )
    if Role.INSPECTOR in actor.roles:
        for order in facts.inspector_orders:
            if (
                order.inspector_id == actor.id
                and patient.id in order.patient_ids
                and order.in_force(today)
            ):
                found.append(
                    Grant(
                        LegalBasis.INSPECTOR_ORDER,
                        f"приказ № {order.number} от {order.order_date:%d.%m.%Y}",
                        order.scopes & READ_ONLY_ACTIONS,
                        order.number,
                        valid_until=order.valid_until,
                    )
                )
    if Role.DOCTOR in actor.roles and actor.specialist_id is not None:
        for share in facts.shares:
            if (
                share.specialist_id == actor.specialist_id
                and share.patient_id == patient.id
                and share.in_force(now)
            ):
                found.append(
                    Grant(
                        LegalBasis.SHARE,
                        share.label,
                        share.actions,
                        share.id,
                        valid_until=share.expires_at.date(),
                    )
                )
    return found


@dataclass(frozen=True)
class Decision:
    allowed: bool
    grant: Grant | None = None
    reason: str = ""


def decide(
    facts: AccessFacts,
    action: Action,
    now: datetime,
    *,
    basis: LegalBasis | None = None,
    document_id: str | None = None,
) -> Decision:
    """Allow `action` on the first basis that covers it (the one asked for, if any)."""
    if facts.actor.confirmation_level != ConfirmationLevel.CONFIRMED:
        return Decision(False, reason=NOT_CONFIRMED)
    candidates = [
        g
        for g in grants(facts, now)
        if (basis is None or g.basis == basis)
        and (document_id is None or g.document_id == document_id)
    ]
    if not candidates:
        return Decision(False, reason=NO_BASIS)
    for grant in candidates:
        if action in grant.scopes:
            return Decision(True, grant)
    return Decision(False, reason=ACTION_NOT_COVERED)


@dataclass(frozen=True)
class FailureCount:
    """Failed logins of one counter (see `login_limits`), and the lock they led to;
    `lock_started` when the failure just counted started that lock."""

    failures: int = 0
    locked_until: datetime | None = None
    lock_started: bool = False

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def slowdown(failures: int, step: float, cap: float = 3.0) -> float:
    """Seconds to wait before answering, growing with the failures so far."""
    return min(cap, step * failures)


def retry_delay(failed_attempts: int, first: float, longest: float) -> float:
    """Exponential backoff of a failed delivery: first, 2×first, 4×first… up to `longest`."""
    return min(longest, first * 2.0 ** max(0, failed_attempts - 1))
