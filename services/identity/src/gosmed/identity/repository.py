"""MongoDB mapping of identity's aggregates; every single-use step is a conditional update."""

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import Action, ConfirmationLevel
from gosmed.contracts.identity.delegations import DelegationBasis, DelegationStatus
from gosmed.contracts.identity.tokens import SessionEndReason
from gosmed.identity.domain import (
    Account,
    Delegation,
    InspectorOrder,
    InsurerConsent,
)
from gosmed.runtime.crypto import KeyRing, SealedDataError

log = logging.getLogger(__name__)

Document = dict[str, Any]


def _day(value: date) -> str:
    return value.isoformat()


def _account(doc: Document, totp_secret: str | None) -> Account:
    return Account(
        id=UUID(doc["_id"]),
        full_name=doc["full_name"],
        birth_date=date.fromisoformat(doc["birth_date"]),
        snils=doc["snils"],
        oms_policy=doc.get("oms_policy"),
        phone=doc.get("phone"),
        email=doc.get("email"),
        confirmation_level=ConfirmationLevel(doc["confirmation_level"]),
        roles=frozenset(Role(r) for r in doc["roles"]),
        parent_ids=frozenset(UUID(p) for p in doc.get("parent_ids", [])),
        password_hash=doc.get("password_hash"),
        totp_secret=totp_secret,
        organization=doc.get("organization"),
        city=doc.get("city"),
        specialist_id=UUID(doc["specialist_id"]) if doc.get("specialist_id") else None,
        inn=doc.get("inn"),
    )


TOTP_FIELDS = ("totp_secret", "totp_pending_secret")


class AccountRepository:
    """Accounts. TOTP secrets (active and pending) are stored sealed under `keys`
    (gosmed.runtime.crypto), bound to their account; one written before encryption is read as
    plaintext until `reseal_totp_secrets` rewrites it."""

    def __init__(self, database: Any, keys: KeyRing) -> None:
        self.accounts = database["accounts"]
        self.keys = keys

    @staticmethod
    def _context(account_id: str) -> str:
        return f"account:{account_id}:totp"

    def _seal(self, account_id: UUID, secret: str) -> str:
        return self.keys.seal_text(secret, self._context(str(account_id)))

    def _open(self, doc: Document, field: str) -> str | None:
        stored = doc.get(field)
        if stored is None:
            return None
        try:
            return self.keys.open_text(stored, self._context(doc["_id"]))
        except SealedDataError as exc:  # its key is not configured here: the factor is unusable
            log.error("account %s: %s does not open (%s)", doc["_id"], field, exc)
            return None

    def _account(self, doc: Document) -> Account:
        return _account(doc, self._open(doc, "totp_secret"))

    async def reseal_totp_secrets(self) -> int:
        """Rewrite every TOTP secret stored in plaintext or under an older key with the current
        key; how many were rewritten. Safe on every start and on several replicas at once."""
        rewritten = 0
        current = re.escape(f"gcm1.{self.keys.current}.")
        for field in TOTP_FIELDS:
            query = {field: {"$type": "string", "$not": re.compile(f"^{current}")}}
            async for doc in self.accounts.find(query, {field: 1}):
                try:
                    resealed = self.keys.reseal_text(doc[field], self._context(doc["_id"]))
                except SealedDataError as exc:
                    log.error("account %s: %s not re-encrypted (%s)", doc["_id"], field, exc)
                    continue
                result = await self.accounts.update_one(
                    {"_id": doc["_id"], field: doc[field]}, {"$set": {field: resealed}}
                )
                rewritten += result.modified_count
        if rewritten:
            log.info("re-encrypted %d TOTP secrets under data key %s", rewritten, self.keys.current)
        return rewritten

    async def ensure_indexes(self) -> None:
        await self.accounts.create_index("snils", unique=True)
        await self.accounts.create_index(
            "phone", unique=True, partialFilterExpression={"phone": {"$type": "string"}}
        )
        await self.accounts.create_index("parent_ids")
        await self.accounts.create_index("oms_policy")

    async def add(self, account: Account) -> bool:
        """Insert; False when an account with that id, SNILS or phone exists already."""
        doc: Document = {
            "_id": str(account.id),
            "full_name": account.full_name,
            "birth_date": _day(account.birth_date),
            "snils": account.snils,
            "oms_policy": account.oms_policy,
            "email": account.email,
            "confirmation_level": account.confirmation_level.value,
            "roles": sorted(r.value for r in account.roles),
            "parent_ids": sorted(str(p) for p in account.parent_ids),
            "password_hash": account.password_hash,
            "totp_secret": self._seal(account.id, account.totp_secret)
            if account.totp_secret
            else None,
            "totp_last_step": -1,
            "organization": account.organization,
            "city": account.city,
            "specialist_id": str(account.specialist_id) if account.specialist_id else None,
            "inn": account.inn,
        }
        if account.phone is not None:
            doc["phone"] = account.phone
        try:
            await self.accounts.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, account_id: UUID) -> Account | None:
        doc = await self.accounts.find_one({"_id": str(account_id)})
        return self._account(doc) if doc else None

    async def by_phone(self, phone: str) -> Account | None:
        doc = await self.accounts.find_one({"phone": phone})
        return self._account(doc) if doc else None

    async def by_snils(self, snils: str) -> Account | None:
        doc = await self.accounts.find_one({"snils": snils})
        return self._account(doc) if doc else None

    async def matching(self, snils: str | None, inn: str | None, oms_policy: str) -> list[UUID]:
        """The accounts (at most two: enough to tell one from several) whose SNILS, or INN,
        and OMS policy are these."""
        if not (snils or inn):
            return []
        query = {"oms_policy": oms_policy, **({"snils": snils} if snils else {"inn": inn})}
        found = self.accounts.find(query, {"_id": 1}).limit(2)
        return [UUID(doc["_id"]) async for doc in found]

    async def children_of(self, parent_id: UUID) -> list[Account]:
        return [self._account(d) async for d in self.accounts.find({"parent_ids": str(parent_id)})]

    async def many(self, account_ids: set[UUID]) -> list[Account]:
        ids = [str(i) for i in account_ids]
        return [self._account(d) async for d in self.accounts.find({"_id": {"$in": ids}})]

    async def set_pending_totp(self, account_id: UUID, secret: str) -> None:
        sealed = self._seal(account_id, secret)
        await self.accounts.update_one(
            {"_id": str(account_id)}, {"$set": {"totp_pending_secret": sealed}}
        )

    async def pending_totp(self, account_id: UUID) -> str | None:
        doc = await self.accounts.find_one({"_id": str(account_id)}, {"totp_pending_secret": 1})
        return self._open(doc, "totp_pending_secret") if doc else None

    async def activate_totp(self, account_id: UUID, secret: str, step: int) -> bool:
        """Make the pending secret the active one, its first code counting as used."""
        doc = await self.accounts.find_one({"_id": str(account_id)}, {"totp_pending_secret": 1})
        if doc is None or self._open(doc, "totp_pending_secret") != secret:
            return False
        sealed = doc["totp_pending_secret"]
        result = await self.accounts.update_one(
            {"_id": str(account_id), "totp_pending_secret": sealed},
            {
                "$set": {"totp_secret": sealed, "totp_last_step": step},
                "$unset": {"totp_pending_secret": ""},
            },
        )
        return bool(result.modified_count)

    async def use_totp_step(self, account_id: UUID, step: int) -> bool:
        """Record a TOTP step as used; False if it or a later one was used (a replay)."""
        result = await self.accounts.update_one(
            {"_id": str(account_id), "totp_last_step": {"$lt": step}},
            {"$set": {"totp_last_step": step}},
        )
        return bool(result.modified_count)


@dataclass(frozen=True)
class Session:
    id: UUID
    account_id: UUID
    device: str
    client_address: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    tokens_expire_by: datetime
    refresh_digest: str
    ended_at: datetime | None = None
    end_reason: SessionEndReason | None = None
    second_factor_at: datetime | None = None  # a later step-up; the login's is `created_at`

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def last_second_factor(self) -> datetime:
        return max(self.created_at, self.second_factor_at or self.created_at)


def _session(doc: Document) -> Session:
    reason = doc.get("end_reason")
    return Session(
        id=UUID(doc["_id"]),
        account_id=UUID(doc["account_id"]),
        device=doc["device"],
        client_address=doc["client_address"],
        created_at=doc["created_at"],
        last_seen_at=doc["last_seen_at"],
        expires_at=doc["expires_at"],
        # Sessions opened before tokens were checked at the edge: their tokens die with them.
        tokens_expire_by=doc.get("tokens_expire_by") or doc["expires_at"],
        refresh_digest=doc["refresh_digest"],
        ended_at=doc["ended_at"],
        end_reason=SessionEndReason(reason) if reason else None,
        second_factor_at=doc.get("second_factor_at"),
    )


class SessionRepository:
    """Server-side sessions; a session is the family of its rotating refresh tokens. An ended
    session is announced (SessionEnded) until `announce_pending` is cleared: the session
    document is the outbox of its own event."""

    def __init__(self, database: Any) -> None:
        self.sessions = database["sessions"]

    async def ensure_indexes(self) -> None:
        await self.sessions.create_index([("account_id", ASCENDING), ("ended_at", ASCENDING)])
        await self.sessions.create_index([("ended_at", ASCENDING), ("last_seen_at", ASCENDING)])
        await self.sessions.create_index("refresh_digests")
        await self.sessions.create_index("tokens_expire_by")
        await self.sessions.create_index("announce_pending", sparse=True)
        # Past its absolute expiry a session (and its refresh tokens) is worthless: drop it.
        await self.sessions.create_index("expires_at", expireAfterSeconds=0)

    async def add(self, session: Session) -> None:
        await self.sessions.insert_one(
            {
                "_id": str(session.id),
                "account_id": str(session.account_id),
                "device": session.device,
                "client_address": session.client_address,
                "created_at": session.created_at,
                "last_seen_at": session.last_seen_at,
                "expires_at": session.expires_at,
                "tokens_expire_by": session.tokens_expire_by,
                "ended_at": None,
                "refresh_digest": session.refresh_digest,
                "refresh_digests": [session.refresh_digest],
            }
        )

    async def get(self, session_id: UUID) -> Session | None:
        doc = await self.sessions.find_one({"_id": str(session_id)})
        return _session(doc) if doc else None

    async def record_second_factor(self, session_id: UUID, now: datetime) -> None:
        """The session's account passed a second factor again (a step-up) at `now`."""
        await self.sessions.update_one(
            {"_id": str(session_id), "ended_at": None}, {"$set": {"second_factor_at": now}}
        )

    async def end_others(
        self, account_id: UUID, keep: UUID | None, now: datetime, reason: SessionEndReason
    ) -> list[Session]:
        """End every live session of the account but `keep`; the sessions this ended."""
        query: Document = {"account_id": str(account_id), "ended_at": None}
        if keep is not None:
            query["_id"] = {"$ne": str(keep)}
        return await self._end_where(query, now, reason)

    async def touch(self, session_id: UUID, now: datetime, idle: timedelta) -> Session | None:
        """Extend a live session's idle timer; None if it ended, idled out or expired."""
        doc = await self.sessions.find_one_and_update(
            {
                "_id": str(session_id),
                "ended_at": None,
                "expires_at": {"$gt": now},
                "last_seen_at": {"$gt": now - idle},
            },
            {"$set": {"last_seen_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return _session(doc) if doc else None

    async def rotate(
        self, old_digest: str, new_digest: str, now: datetime, idle: timedelta, ttl: timedelta
    ) -> Session | None:
        """Swap the current refresh token of a live session (a new access token, living `ttl`,
        goes with it); None if `old_digest` is not current (then see `family_of`)."""
        doc = await self.sessions.find_one_and_update(
            {
                "refresh_digest": old_digest,
                "ended_at": None,
                "expires_at": {"$gt": now},
                "last_seen_at": {"$gt": now - idle},
            },
            {
                "$set": {
                    "refresh_digest": new_digest,
                    "last_seen_at": now,
                    "tokens_expire_by": now + ttl,
                },
                "$push": {"refresh_digests": new_digest},
            },
            return_document=ReturnDocument.AFTER,
        )
        return _session(doc) if doc else None

    async def family_of(self, digest: str) -> Session | None:
        """The session a refresh token (current or already used) belongs to."""
        doc = await self.sessions.find_one({"refresh_digests": digest})
        return _session(doc) if doc else None

    async def end(
        self, account_id: UUID, session_id: UUID | None, now: datetime, reason: SessionEndReason
    ) -> list[Session]:
        """End one live session of the account, or all of them; the sessions this ended."""
        query: Document = {"account_id": str(account_id), "ended_at": None}
        if session_id is not None:
            query["_id"] = str(session_id)
        return await self._end_where(query, now, reason)

    async def end_idle(self, now: datetime, idle: timedelta) -> list[Session]:
        """End every live session unused (no login, no refresh) for `idle`."""
        query = {"ended_at": None, "last_seen_at": {"$lte": now - idle}}
        return await self._end_where(query, now, SessionEndReason.IDLE_TIMEOUT)

    async def end_expired(self, now: datetime) -> list[Session]:
        """End every live session past its absolute expiry (until the TTL index drops it)."""
        query = {"ended_at": None, "expires_at": {"$lte": now}}
        return await self._end_where(query, now, SessionEndReason.ABSOLUTE_TIMEOUT)

    async def _end_where(
        self, query: Document, now: datetime, reason: SessionEndReason
    ) -> list[Session]:
        ended: list[Session] = []
        async for found in self.sessions.find(query, {"_id": 1}):
            doc = await self.sessions.find_one_and_update(
                {"_id": found["_id"], "ended_at": None},
                {"$set": {"ended_at": now, "end_reason": reason.value, "announce_pending": True}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:  # not ended meanwhile by another request or replica
                ended.append(_session(doc))
        return ended

    async def unannounced(self) -> list[Session]:
        """Ended sessions whose SessionEnded is not published yet."""
        return [_session(d) async for d in self.sessions.find({"announce_pending": True})]

    async def announced(self, session_id: UUID) -> None:
        await self.sessions.update_one(
            {"_id": str(session_id)}, {"$unset": {"announce_pending": ""}}
        )

    async def ended_with_live_tokens(self, now: datetime) -> list[Session]:
        """Ended sessions that still have access tokens signed and unexpired at `now`."""
        cursor = self.sessions.find({"tokens_expire_by": {"$gt": now}, "ended_at": {"$ne": None}})
        return [_session(d) async for d in cursor]

    async def live(self, account_id: UUID, now: datetime, idle: timedelta) -> list[Session]:
        cursor = self.sessions.find(
            {
                "account_id": str(account_id),
                "ended_at": None,
                "expires_at": {"$gt": now},
                "last_seen_at": {"$gt": now - idle},
            }
        ).sort("created_at", -1)
        return [_session(d) async for d in cursor]


def _delegation(doc: Document) -> Delegation:
    return Delegation(
        id=doc["_id"],
        principal_id=UUID(doc["principal_id"]),
        agent_id=UUID(doc["agent_id"]) if doc.get("agent_id") else None,
        basis=DelegationBasis(doc["basis"]),
        scopes=frozenset(Action(s) for s in doc["scopes"]),
        valid_from=date.fromisoformat(doc["valid_from"]),
        valid_until=date.fromisoformat(doc["valid_until"]),
        status=DelegationStatus(doc["status"]),
        register_number=doc.get("register_number"),
        agent_snils=doc.get("agent_snils"),
        created_at=doc.get("created_at"),
    )


def _insurer_consent(doc: Document) -> InsurerConsent:
    return InsurerConsent(
        id=doc["_id"],
        insurer_id=UUID(doc["insurer_id"]),
        patient_id=UUID(doc["patient_id"]),
        contract_number=doc["contract_number"],
        contract_valid_until=date.fromisoformat(doc["contract_valid_until"]),
        consent_valid_until=date.fromisoformat(doc["consent_valid_until"]),
        scopes=frozenset(Action(s) for s in doc["scopes"]),
        revoked=doc["revoked"],
        request_confirmed_until=doc.get("request_confirmed_until"),
        access_requested_at=doc.get("access_requested_at"),
    )


def _inspector_order(doc: Document) -> InspectorOrder:
    return InspectorOrder(
        id=doc["_id"],
        inspector_id=UUID(doc["inspector_id"]),
        number=doc["number"],
        order_date=date.fromisoformat(doc["order_date"]),
        patient_ids=frozenset(UUID(p) for p in doc["patient_ids"]),
        scopes=frozenset(Action(s) for s in doc["scopes"]),
        valid_from=date.fromisoformat(doc["valid_from"]),
        valid_until=date.fromisoformat(doc["valid_until"]),
        revoked=doc["revoked"],
    )


def _delegation_doc(d: Delegation) -> Document:
    return {
        "principal_id": str(d.principal_id),
        "agent_id": str(d.agent_id) if d.agent_id else None,
        "agent_snils": d.agent_snils,
        "created_at": d.created_at,
        "basis": d.basis.value,
        "scopes": sorted(s.value for s in d.scopes),
        "valid_from": _day(d.valid_from),
        "valid_until": _day(d.valid_until),
        "status": d.status.value,
        "register_number": d.register_number,
    }


def _consent_doc(c: InsurerConsent) -> Document:
    return {
        "insurer_id": str(c.insurer_id),
        "patient_id": str(c.patient_id),
        "contract_number": c.contract_number,
        "contract_valid_until": _day(c.contract_valid_until),
        "consent_valid_until": _day(c.consent_valid_until),
        "scopes": sorted(s.value for s in c.scopes),
        "revoked": c.revoked,
        "request_confirmed_until": c.request_confirmed_until,
        "access_requested_at": c.access_requested_at,
    }


def _order_doc(o: InspectorOrder) -> Document:
    return {
        "inspector_id": str(o.inspector_id),
        "number": o.number,
        "order_date": _day(o.order_date),
        "patient_ids": sorted(str(p) for p in o.patient_ids),
        "scopes": sorted(s.value for s in o.scopes),
        "valid_from": _day(o.valid_from),
        "valid_until": _day(o.valid_until),
        "revoked": o.revoked,
    }


async def _insert_once(collection: Any, document_id: str, doc: Document) -> bool:
    """Insert; False when a document with that id exists already."""
    try:
        await collection.insert_one({"_id": document_id, **doc})
    except DuplicateKeyError:
        return False
    return True


class GrantRepository:
    """Delegations, insurer consents and inspector orders: what gives access to others."""

    def __init__(self, database: Any) -> None:
        self.delegations = database["delegations"]
        self.insurer_consents = database["insurer_consents"]
        self.inspector_orders = database["inspector_orders"]

    async def ensure_indexes(self) -> None:
        await self.delegations.create_index([("agent_id", ASCENDING), ("principal_id", ASCENDING)])
        await self.delegations.create_index(
            [("principal_id", ASCENDING), ("created_at", ASCENDING)]
        )
        await self.delegations.create_index("agent_snils", sparse=True)
        await self.insurer_consents.create_index(
            [("insurer_id", ASCENDING), ("patient_id", ASCENDING)]
        )
        await self.inspector_orders.create_index("inspector_id")

    async def add_delegation(self, d: Delegation) -> None:
        """Write as given, replacing one with the same id (demo seeding)."""
        await self.delegations.replace_one({"_id": d.id}, _delegation_doc(d), upsert=True)

    async def create_delegation(self, d: Delegation) -> bool:
        """Store once; False when its id exists (a repeated request)."""
        return await _insert_once(self.delegations, d.id, _delegation_doc(d))

    async def add_insurer_consent(self, c: InsurerConsent) -> None:
        """Write as given, replacing one with the same id (demo seeding)."""
        await self.insurer_consents.replace_one({"_id": c.id}, _consent_doc(c), upsert=True)

    async def create_insurer_consent(self, c: InsurerConsent) -> bool:
        """Store once; False when its id exists (a repeated request)."""
        return await _insert_once(self.insurer_consents, c.id, _consent_doc(c))

    async def add_inspector_order(self, o: InspectorOrder) -> None:
        """Write as given, replacing one with the same id (demo seeding)."""
        await self.inspector_orders.replace_one({"_id": o.id}, _order_doc(o), upsert=True)

    async def create_inspector_order(self, o: InspectorOrder) -> bool:
        """Store once; False when its id exists (a repeated request)."""
        return await _insert_once(self.inspector_orders, o.id, _order_doc(o))

    async def delegations_of(self, account_id: UUID, snils: str) -> list[Delegation]:
        """Where the account is principal or agent, or given to its SNILS and not accepted."""
        party = [
            {"principal_id": str(account_id)},
            {"agent_id": str(account_id)},
            {"agent_snils": snils, "agent_id": None},
        ]
        cursor = self.delegations.find({"$or": party}).sort("valid_from", DESCENDING)
        return [_delegation(d) async for d in cursor]

    async def delegation(self, delegation_id: str) -> Delegation | None:
        doc = await self.delegations.find_one({"_id": delegation_id})
        return _delegation(doc) if doc else None

    async def created_since(self, principal_id: UUID, since: datetime) -> int:
        """How many delegations the principal has given since `since`."""
        count: int = await self.delegations.count_documents(
            {"principal_id": str(principal_id), "created_at": {"$gte": since}}
        )
        return count

    async def accept(
        self, delegation_id: str, agent_id: UUID, agent_snils: str, to: DelegationStatus
    ) -> bool:
        """Bind the agent to a delegation given to their SNILS and waiting for them."""
        result = await self.delegations.update_one(
            {
                "_id": delegation_id,
                "agent_snils": agent_snils,
                "agent_id": None,
                "status": DelegationStatus.AWAITING_AGENT.value,
            },
            {"$set": {"agent_id": str(agent_id), "status": to.value}},
        )
        return bool(result.modified_count)

    async def change_status(
        self, delegation_id: str, allowed_from: set[DelegationStatus], to: DelegationStatus
    ) -> bool:
        """Move a delegation to `to` if its status is one of `allowed_from` (atomically)."""
        result = await self.delegations.update_one(
            {"_id": delegation_id, "status": {"$in": [s.value for s in allowed_from]}},
            {"$set": {"status": to.value}},
        )
        return bool(result.modified_count)

    async def insurer_consents_about(self, account_id: UUID) -> list[InsurerConsent]:
        """Where the account is the patient or the insurer."""
        party = [{"patient_id": str(account_id)}, {"insurer_id": str(account_id)}]
        cursor = self.insurer_consents.find({"$or": party})
        return [_insurer_consent(d) async for d in cursor]

    async def insurer_consent(self, consent_id: str) -> InsurerConsent | None:
        doc = await self.insurer_consents.find_one({"_id": consent_id})
        return _insurer_consent(doc) if doc else None

    async def update_insurer_consent(
        self, consent_id: str, condition: Document, changes: Document
    ) -> bool:
        """Apply `changes` to a live consent that also matches `condition` (atomically)."""
        result = await self.insurer_consents.update_one(
            {"_id": consent_id, "revoked": False, **condition}, {"$set": changes}
        )
        return bool(result.modified_count)

    async def all_inspector_orders(self) -> list[InspectorOrder]:
        cursor = self.inspector_orders.find({}).sort("order_date", DESCENDING)
        return [_inspector_order(d) async for d in cursor]

    async def inspector_order(self, order_id: str) -> InspectorOrder | None:
        doc = await self.inspector_orders.find_one({"_id": order_id})
        return _inspector_order(doc) if doc else None

    async def revoke_inspector_order(self, order_id: str) -> bool:
        result = await self.inspector_orders.update_one(
            {"_id": order_id, "revoked": False}, {"$set": {"revoked": True}}
        )
        return bool(result.modified_count)

    async def delegations_to(self, agent_id: UUID) -> list[Delegation]:
        return [_delegation(d) async for d in self.delegations.find({"agent_id": str(agent_id)})]

    async def insurer_consents_of(self, insurer_id: UUID) -> list[InsurerConsent]:
        cursor = self.insurer_consents.find({"insurer_id": str(insurer_id)})
        return [_insurer_consent(d) async for d in cursor]

    async def inspector_orders_of(self, inspector_id: UUID) -> list[InspectorOrder]:
        cursor = self.inspector_orders.find({"inspector_id": str(inspector_id)})
        return [_inspector_order(d) async for d in cursor]
