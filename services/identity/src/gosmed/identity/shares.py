"""Use cases of patients' shares with doctors: open, list, end. Whether a doctor may read is
decided by `authorize` like every other basis (`domain.grants`)."""

import logging
from datetime import datetime
from uuid import UUID, uuid4

from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.shares import (
    CreateShare,
    ListShares,
    RevokeShare,
    SharesView,
    ShareView,
)
from gosmed.identity.domain import AccessFacts, Account, Share, decide, share_refusal
from gosmed.identity.service import Clock, Repositories

log = logging.getLogger(__name__)

OWNER_BASES = frozenset({LegalBasis.OWN_ACCOUNT, LegalBasis.PARENT_OF_MINOR})
PATIENT_NOT_FOUND = "Пациент не найден."
OWNER_ONLY = "Открывать доступ врачу может только сам пациент или родитель ребёнка до 15 лет."
SHARE_NOT_FOUND = "Доступ не найден."


class ShareService:
    def __init__(self, repos: Repositories, clock: Clock = utc_now) -> None:
        self.repos = repos
        self.shares = repos.shares
        self.clock = clock

    async def _owned_patient(self, context: AccessContext) -> Account:
        """The patient whose shares the actor manages: the patient or a young child's parent;
        a stranger learns nothing (404)."""
        actor = await self.repos.accounts.get(context.actor_id)
        patient = await self.repos.accounts.get(context.patient_id or context.actor_id)
        if actor is None or patient is None:
            raise ServiceError(ErrorCode.NOT_FOUND, PATIENT_NOT_FOUND)
        delegations = tuple(await self.repos.grants.delegations_to(actor.id))
        facts = AccessFacts(actor=actor, patient=patient, delegations=delegations)
        decision = decide(facts, Action.READ_SERVICES, self.clock())
        if decision.grant is not None and decision.grant.basis in OWNER_BASES:
            return patient
        if decision.allowed or actor.id == patient.id:
            raise ServiceError(ErrorCode.FORBIDDEN, decision.reason or OWNER_ONLY)
        raise ServiceError(ErrorCode.NOT_FOUND, PATIENT_NOT_FOUND)

    async def create(self, request: CreateShare) -> ShareView:
        patient = await self._owned_patient(request.context)
        now = self.clock()
        refusal = share_refusal(request.expires_at, now)
        if refusal:
            raise ServiceError(ErrorCode.VALIDATION_FAILED, refusal)
        share = Share(
            id=str(uuid4()),
            patient_id=patient.id,
            specialist_id=request.specialist_id,
            scopes=request.scopes,
            created_at=now,
            expires_at=request.expires_at,
        )
        await self.shares.add(share)
        log.info("share %s opened until %s", share.id, share.expires_at.date())
        return _view(share, now)

    async def list(self, request: ListShares) -> SharesView:
        patient = await self._owned_patient(request.context)
        now = self.clock()
        return SharesView(
            items=tuple(_view(s, now) for s in await self.shares.of_patient(patient.id))
        )

    async def revoke(self, request: RevokeShare) -> ShareView:
        patient = await self._owned_patient(request.context)
        now = self.clock()
        ended = await self.shares.revoke(patient.id, str(request.share_id), now)
        if ended is not None:
            log.info("share %s revoked", ended.id)
            return _view(ended, now)
        if await self.shares.get(patient.id, str(request.share_id)) is None:
            raise ServiceError(ErrorCode.NOT_FOUND, SHARE_NOT_FOUND)
        raise ServiceError(ErrorCode.CONFLICT, "Доступ уже закрыт.")


def _view(share: Share, now: datetime) -> ShareView:
    return ShareView(
        share_id=UUID(share.id),
        patient_id=share.patient_id,
        specialist_id=share.specialist_id,
        scopes=tuple(sorted(share.scopes)),
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        active=share.in_force(now),
    )
