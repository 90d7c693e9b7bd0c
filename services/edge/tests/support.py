"""What the edge route tests on a fake RPC caller share: the caller, the header it sends and
its patient card."""

from datetime import date
from uuid import uuid4

from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import ConfirmationLevel, PatientRef, Principal

PRINCIPAL = Principal(
    account_id=uuid4(),
    session_id=uuid4(),
    roles=frozenset({Role.CITIZEN}),
    confirmation_level=ConfirmationLevel.CONFIRMED,
)
"""A confirmed citizen: whom the fake identity (the `rpc` fixture) takes the bearer for."""

BEARER = {"Authorization": "Bearer token-of-the-test"}

PATIENT = PatientRef(
    account_id=PRINCIPAL.account_id,
    snils="112-233-445 95",
    full_name="Иванова Мария Петровна",
    birth_date=date(1985, 3, 14),
)
"""PRINCIPAL as a patient, as records names them on a page of their own services."""
