"""What the edge route tests on a fake RPC caller share: the caller and the header it sends."""

from uuid import uuid4

from gosmed.contracts.access import Role
from gosmed.contracts.identity.access import ConfirmationLevel, Principal

PRINCIPAL = Principal(
    account_id=uuid4(),
    session_id=uuid4(),
    roles=frozenset({Role.CITIZEN}),
    confirmation_level=ConfirmationLevel.CONFIRMED,
)
"""A confirmed citizen: whom the fake identity (the `rpc` fixture) takes the bearer for."""

BEARER = {"Authorization": "Bearer token-of-the-test"}
