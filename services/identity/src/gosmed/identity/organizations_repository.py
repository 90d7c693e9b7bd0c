"""MongoDB mapping of organizations' corporate accounts, their staff's powers of attorney and
the organizations' journals."""

from datetime import date
from typing import Any
from uuid import UUID

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.identity.organization_rules import CorporateAccount, JournalEntry, StaffAuthority

Document = dict[str, Any]


class OrganizationsRepository:
    def __init__(self, database: Any) -> None:
        self.organizations = database["organizations"]
        self.authorities = database["staff_authorities"]
        self.journal = database["organization_journal"]

    async def ensure_indexes(self) -> None:
        await self.authorities.create_index([("staff_id", ASCENDING)])
        await self.authorities.create_index([("organization_id", ASCENDING)])
        await self.journal.create_index([("organization_id", ASCENDING), ("at", DESCENDING)])

    async def add_organization(self, organization: CorporateAccount) -> None:
        """Write as given, replacing the one of the same organization (demo seeding)."""
        doc = {"name": organization.name, "ogrn": organization.ogrn}
        await self.organizations.replace_one(
            {"_id": str(organization.organization_id)}, doc, upsert=True
        )

    async def organization(self, organization_id: UUID) -> CorporateAccount | None:
        doc = await self.organizations.find_one({"_id": str(organization_id)})
        if doc is None:
            return None
        return CorporateAccount(organization_id, doc["name"], doc["ogrn"])

    async def add_authority(self, authority: StaffAuthority) -> None:
        """Write as given, replacing the one with the same number (demo seeding)."""
        await self.authorities.replace_one(
            {"_id": authority.number}, _authority_doc(authority), upsert=True
        )

    async def create_authority(self, authority: StaffAuthority) -> bool:
        """Store once; False when a power of attorney with its number exists."""
        try:
            await self.authorities.insert_one(
                {"_id": authority.number, **_authority_doc(authority)}
            )
        except DuplicateKeyError:
            return False
        return True

    async def revoke(self, organization_id: UUID, number: str) -> StaffAuthority | None:
        """Mark the organization's power of attorney `number` revoked; None when it has none
        with that number."""
        doc = await self.authorities.find_one_and_update(
            {"_id": number, "organization_id": str(organization_id)},
            {"$set": {"revoked": True}},
            return_document=ReturnDocument.AFTER,
        )
        return _authority(doc) if doc else None

    async def authorities_of_staff(self, staff_id: UUID) -> list[StaffAuthority]:
        cursor = self.authorities.find({"staff_id": str(staff_id)})
        return [_authority(d) async for d in cursor]

    async def authorities_of_organization(self, organization_id: UUID) -> list[StaffAuthority]:
        cursor = self.authorities.find({"organization_id": str(organization_id)}).sort("_id")
        return [_authority(d) async for d in cursor]

    async def write(self, entry: JournalEntry) -> None:
        await self.journal.insert_one(
            {
                "organization_id": str(entry.organization_id),
                "at": entry.at,
                "actor_id": str(entry.actor_id),
                "actor_name": entry.actor_name,
                "action": entry.action.value,
                "subject": entry.subject,
                "allowed": entry.allowed,
                "basis_label": entry.basis_label,
                "reason": entry.reason,
            }
        )

    async def journal_of(self, organization_id: UUID, limit: int) -> list[JournalEntry]:
        cursor = (
            self.journal.find({"organization_id": str(organization_id)})
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [
            JournalEntry(
                organization_id=UUID(d["organization_id"]),
                at=d["at"],
                actor_id=UUID(d["actor_id"]),
                actor_name=d["actor_name"],
                action=OrganizationAction(d["action"]),
                subject=d["subject"],
                allowed=d["allowed"],
                basis_label=d["basis_label"],
                reason=d["reason"],
            )
            async for d in cursor
        ]


def _authority_doc(authority: StaffAuthority) -> Document:
    return {
        "organization_id": str(authority.organization_id),
        "staff_id": str(authority.staff_id),
        "scopes": sorted(s.value for s in authority.scopes),
        "valid_from": authority.valid_from.isoformat(),
        "valid_until": authority.valid_until.isoformat(),
        "revoked": authority.revoked,
    }


def _authority(doc: Document) -> StaffAuthority:
    return StaffAuthority(
        number=doc["_id"],
        organization_id=UUID(doc["organization_id"]),
        staff_id=UUID(doc["staff_id"]),
        scopes=frozenset(OrganizationAction(s) for s in doc["scopes"]),
        valid_from=date.fromisoformat(doc["valid_from"]),
        valid_until=date.fromisoformat(doc["valid_until"]),
        revoked=doc["revoked"],
    )
