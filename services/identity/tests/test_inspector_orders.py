"""An operator registers and revokes inspectors' orders; an order lets its inspector read, and
only read, the data of the patients it names, within its period."""

from datetime import date, timedelta

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import LegalBasis
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.consents import (
    CreateInspectorOrder,
    InspectorOrderRequest,
    ListInspectorOrders,
)
from gosmed.identity.consents import ConsentService
from gosmed.identity.demo import INSPECTOR_ORDER_NUMBER, account_id
from gosmed.identity.domain import ACTION_NOT_COVERED, NO_BASIS
from gosmed.identity.service import AccessService

from .support import Clock, authorize, refused

NUMBER = "П-77/2026"
TEEN = demo.CHILD_OVER_15
UNKNOWN_SNILS = "00000000000"  # well-formed, nobody's


def order(
    today: date,
    *,
    operator: demo.DemoPerson = demo.OPERATOR,
    inspector_snils: str = demo.INSPECTOR.snils,
    patient_snils: frozenset[str] = frozenset({TEEN.snils}),
    scopes: frozenset[Action] = frozenset({Action.READ_SERVICES}),
    days: tuple[int, int] = (0, 10),
) -> CreateInspectorOrder:
    """An order dated `today`, in force from `today + days[0]` to `today + days[1]`."""
    return CreateInspectorOrder(
        operator_id=account_id(operator),
        inspector_snils=inspector_snils,
        number=NUMBER,
        order_date=today,
        patient_snils=patient_snils,
        scopes=scopes,
        valid_from=today + timedelta(days=days[0]),
        valid_until=today + timedelta(days=days[1]),
    )


def by(person: demo.DemoPerson, order_id: str) -> InspectorOrderRequest:
    return InspectorOrderRequest(account_id=account_id(person), order_id=order_id)


async def test_an_order_lets_its_inspector_only_read_the_patients_it_names(
    consents: ConsentService, access: AccessService, clock: Clock
) -> None:
    today = clock().date()
    assert (await authorize(access, demo.INSPECTOR, TEEN)).reason == NO_BASIS
    scopes = frozenset({Action.READ_SERVICES, Action.BOOK_APPOINTMENTS})
    created = await consents.create_order(order(today, scopes=scopes))
    assert created.scopes == (Action.READ_SERVICES,)
    assert created.patient_ids == (account_id(TEEN),)

    decision = await authorize(access, demo.INSPECTOR, TEEN)
    assert decision.allowed
    assert decision.basis == LegalBasis.INSPECTOR_ORDER
    assert decision.basis_document_id == NUMBER
    assert decision.basis_label == f"приказ № {NUMBER} от {today:%d.%m.%Y}"
    assert not decision.sees_restricted_categories
    booking = await authorize(access, demo.INSPECTOR, TEEN, Action.BOOK_APPOINTMENTS)
    assert booking.reason == ACTION_NOT_COVERED
    assert (await authorize(access, demo.INSPECTOR, demo.PARENT)).reason == NO_BASIS


async def test_an_order_counts_within_its_period_only(
    consents: ConsentService, access: AccessService, clock: Clock
) -> None:
    await consents.create_order(order(clock().date(), days=(1, 2)))
    allowed = []
    for _ in range(4):
        allowed.append((await authorize(access, demo.INSPECTOR, TEEN)).allowed)
        clock.advance(days=1)
    assert allowed == [False, True, True, False]


async def test_a_repeated_request_registers_one_order(
    consents: ConsentService, clock: Clock
) -> None:
    """A redelivered request (same message id) stores nothing new nor undoes the revocation."""
    request = order(clock().date())
    created = await consents.create_order(request)
    await consents.revoke_order(by(demo.OPERATOR, created.order_id))
    again = await consents.create_order(request)
    assert (again.order_id, again.revoked) == (created.order_id, True)
    listed = await consents.list_orders(ListInspectorOrders(account_id=account_id(demo.INSPECTOR)))
    assert sorted(o.order_id for o in listed.orders) == sorted(
        ["demo-inspector-order", created.order_id]
    )


@pytest.mark.parametrize("person", [demo.INSPECTOR, demo.PATIENT], ids=["inspector", "patient"])
async def test_only_an_operator_registers_an_order(
    consents: ConsentService, access: AccessService, clock: Clock, person: demo.DemoPerson
) -> None:
    request = order(clock().date(), operator=person)
    message = await refused(consents.create_order(request), ErrorCode.FORBIDDEN)
    assert message == "Приказы регистрирует оператор."
    assert not (await authorize(access, demo.INSPECTOR, TEEN)).allowed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"inspector_snils": demo.INSURER.snils}, "Инспектор с таким СНИЛС не найден."),
        ({"inspector_snils": UNKNOWN_SNILS}, "Инспектор с таким СНИЛС не найден."),
        (
            {"patient_snils": frozenset({TEEN.snils, UNKNOWN_SNILS})},
            "Не все пациенты приказа найдены.",
        ),
    ],
    ids=["insurer-as-inspector", "unknown-inspector", "unknown-patient"],
)
async def test_an_order_names_a_known_inspector_and_known_patients(
    consents: ConsentService, clock: Clock, changes: dict[str, object], message: str
) -> None:
    request = order(clock().date(), **changes)  # type: ignore[arg-type]
    assert await refused(consents.create_order(request), ErrorCode.NOT_FOUND) == message
    listed = await consents.list_orders(ListInspectorOrders(account_id=account_id(demo.OPERATOR)))
    assert [o.number for o in listed.orders] == [INSPECTOR_ORDER_NUMBER]


async def test_a_revoked_order_stops_at_the_next_authorize(
    consents: ConsentService, access: AccessService
) -> None:
    before = await authorize(access, demo.INSPECTOR, demo.PATIENT)
    assert before.basis_document_id == INSPECTOR_ORDER_NUMBER
    by_inspector = consents.revoke_order(by(demo.INSPECTOR, "demo-inspector-order"))
    await refused(by_inspector, ErrorCode.FORBIDDEN)
    assert (await authorize(access, demo.INSPECTOR, demo.PATIENT)).allowed

    revoked = await consents.revoke_order(by(demo.OPERATOR, "demo-inspector-order"))
    assert revoked.revoked
    after = await authorize(access, demo.INSPECTOR, demo.PATIENT)
    assert (after.allowed, after.patient, after.reason) == (False, None, NO_BASIS)
    again = consents.revoke_order(by(demo.OPERATOR, "demo-inspector-order"))
    assert await refused(again, ErrorCode.CONFLICT) == "Приказ уже отозван."


async def test_an_order_is_shown_to_its_inspector_and_operators_only(
    consents: ConsentService,
) -> None:
    for person in (demo.INSPECTOR, demo.OPERATOR):
        shown = await consents.get_order(by(person, "demo-inspector-order"))
        assert shown.number == INSPECTOR_ORDER_NUMBER
        listed = await consents.list_orders(ListInspectorOrders(account_id=account_id(person)))
        assert [o.order_id for o in listed.orders] == ["demo-inspector-order"]
    for stranger in (demo.PATIENT, demo.INSURER):
        for order_id in ("demo-inspector-order", "no-such-order"):
            for action in (consents.get_order, consents.revoke_order):
                message = await refused(action(by(stranger, order_id)), ErrorCode.NOT_FOUND)
                assert message == "Приказ не найден."
        listed = await consents.list_orders(ListInspectorOrders(account_id=account_id(stranger)))
        assert listed.orders == ()
