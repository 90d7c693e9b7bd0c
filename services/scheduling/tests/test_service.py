"""Use cases on the embedded store, with identity and the registry as a FakeRpc."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext, Actor, LegalBasis, Role
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AUTHORIZE, AccessDecision, Authorize, PatientRef
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.identity.organizations import (
    AUTHORIZE_ORGANIZATION_ACTION,
    AuthorizeOrganizationAction,
    OrganizationAction,
    OrganizationDecision,
)
from gosmed.contracts.registry.organizations import (
    GET_ORGANIZATIONS,
    GetOrganizations,
    OrganizationsView,
)
from gosmed.contracts.registry.specialists import (
    GET_SPECIALISTS,
    GetSpecialists,
    SpecialistsView,
)
from gosmed.contracts.registry.specialties import Specialty
from gosmed.contracts.scheduling.appointments import (
    AppointmentStatus,
    BookAppointment,
    CancelAppointment,
    GetAppointment,
    ListAppointments,
    ListFreeSlots,
)
from gosmed.contracts.scheduling.journal import (
    APPOINTMENT_ACTED_FOR,
    AppointmentActedFor,
    AppointmentAction,
)
from gosmed.contracts.scheduling.schedules import (
    AppointmentBooked,
    AppointmentCancelled,
    ClinicSlot,
    Preparation,
    PublishSchedule,
    PublishScheduleForOrganization,
    SlotKind,
)
from gosmed.contracts.topology import Service
from gosmed.registry import demo as registry_demo
from gosmed.runtime.outbox import OutboxEntry
from gosmed.runtime.rpc import ServiceClient
from gosmed.runtime.store import open_store
from gosmed.runtime.testing import FakeRpc
from gosmed.scheduling.ports import Identity, Registry
from gosmed.scheduling.repository import AppointmentsRepository, SlotsRepository
from gosmed.scheduling.service import Booking, Schedules

ORGANIZATION = registry_demo.organizations()[0]
SPECIALIST = next(s for s in registry_demo.specialists() if s.organization_id == ORGANIZATION.id)
OTHER_SPECIALIST = uuid4()
PATIENT = uuid4()
PARENT = uuid4()
CHILD = uuid4()
ATTORNEY_WITHOUT_BOOKING = uuid4()
BIRTH_CERTIFICATE = "свидетельство о рождении"
PARENT_NAME = "Петров С. И."
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def patient_ref(account_id: UUID) -> PatientRef:
    return PatientRef(
        account_id=account_id,
        snils="112-233-445 95",
        full_name="Иванова Анна Сергеевна",
        birth_date=date(1985, 4, 12),
    )


@pytest.fixture
def rpc() -> FakeRpc:
    fake = FakeRpc()

    async def authorize(request: Authorize) -> AccessDecision:
        context = request.context
        patient = context.patient_id or context.actor_id
        own = patient == context.actor_id and context.actor_id != ATTORNEY_WITHOUT_BOOKING
        parent = context.actor_id == PARENT and patient == CHILD
        allowed = own or parent
        return AccessDecision(
            allowed=allowed,
            actor_id=context.actor_id,
            patient=patient_ref(patient) if allowed else None,
            basis=(LegalBasis.OWN_ACCOUNT if own else LegalBasis.PARENT_OF_MINOR)
            if allowed
            else None,
            basis_label=BIRTH_CERTIFICATE if parent else "",
            actor=Actor(name=PARENT_NAME, role=Role.CITIZEN, label=PARENT_NAME) if parent else None,
            reason="" if allowed else "нет права записи",
        )

    async def organizations(request: GetOrganizations) -> OrganizationsView:
        known = [ORGANIZATION] if ORGANIZATION.id in request.ids else []
        return OrganizationsView(
            items=tuple(known), missing=tuple(i for i in request.ids if i != ORGANIZATION.id)
        )

    async def specialists(request: GetSpecialists) -> SpecialistsView:
        known = [SPECIALIST] if SPECIALIST.id in request.ids else []
        return SpecialistsView(
            items=tuple(known), missing=tuple(i for i in request.ids if i != SPECIALIST.id)
        )

    fake.answer(AUTHORIZE, authorize)
    fake.answer(GET_ORGANIZATIONS, organizations)
    fake.answer(GET_SPECIALISTS, specialists)
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def stores() -> tuple[SlotsRepository, AppointmentsRepository]:
    store = open_store(None, f"scheduling_{uuid.uuid4().hex[:8]}")
    slots, appointments = SlotsRepository(store.database), AppointmentsRepository(store.database)
    await slots.ensure_indexes()
    await appointments.ensure_indexes()
    return slots, appointments


def new_booking(
    stores: tuple[SlotsRepository, AppointmentsRepository], rpc: FakeRpc, clock: Clock
) -> Booking:
    return Booking(
        stores[0],
        stores[1],
        Identity(ServiceClient(Service.IDENTITY, rpc)),
        Registry(ServiceClient(Service.REGISTRY, rpc)),
        None,
        clock,
    )


@pytest.fixture
def booking(
    stores: tuple[SlotsRepository, AppointmentsRepository], rpc: FakeRpc, clock: Clock
) -> Booking:
    return new_booking(stores, rpc, clock)


@pytest.fixture
def schedules(
    stores: tuple[SlotsRepository, AppointmentsRepository], booking: Booking
) -> Schedules:
    return Schedules(stores[0], booking)


def clinic_slot(number: int, **changes: object) -> ClinicSlot:
    starts_at = START + timedelta(minutes=20 * number)
    fields: dict[str, object] = {
        "clinic_slot_id": f"s-{number}",
        "version": 1,
        "specialist_id": SPECIALIST.id,
        "specialty": SPECIALIST.specialty,
        "department": "Терапевтическое отделение",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=20),
        "room": "214",
        "service_codes": ("B01.047.001",),
        "kind": SlotKind.FIRST_VISIT,
        "preparations": (Preparation(service_code="B01.047.001", text="Возьмите полис."),),
    }
    return ClinicSlot.model_validate(fields | changes)


async def publish(schedules: Schedules, *slots: ClinicSlot) -> tuple[int, int]:
    accepted = await schedules.publish(
        ORGANIZATION.id, PublishSchedule(organization_id=ORGANIZATION.id, slots=slots)
    )
    return accepted.changed, accepted.unchanged


def mine(patient: UUID = PATIENT) -> AccessContext:
    return AccessContext(actor_id=patient, patient_id=patient)


async def free(booking: Booking, **filters: object) -> list[str]:
    page = await booking.free_slots(ListFreeSlots.model_validate(filters))
    return [item.place.room + "@" + item.starts_at.isoformat() for item in page.items]


async def test_a_schedule_is_idempotent_and_versioned_per_clinic_slot(
    schedules: Schedules, booking: Booking
) -> None:
    assert await publish(schedules, clinic_slot(1), clinic_slot(2)) == (2, 0)
    assert await publish(schedules, clinic_slot(1), clinic_slot(2)) == (0, 2)  # a re-send
    assert await publish(schedules, clinic_slot(1, version=2, room="301")) == (1, 0)
    assert await publish(schedules, clinic_slot(1, version=1, room="100")) == (0, 1)  # stale
    rooms = [s.place.room for s in (await booking.free_slots(ListFreeSlots())).items]
    assert rooms == ["301", "214"]


async def test_free_slots_come_soonest_first_with_cards_filters_and_pages(
    schedules: Schedules, booking: Booking, clock: Clock
) -> None:
    await publish(
        schedules,
        clinic_slot(3),
        clinic_slot(1),
        clinic_slot(2, taken=True),
        clinic_slot(4, withdrawn=True),
        clinic_slot(5, specialty=Specialty.CARDIOLOGY, specialist_id=OTHER_SPECIALIST),
        clinic_slot(
            6, starts_at=START + timedelta(days=2), ends_at=START + timedelta(days=2, hours=1)
        ),
        clinic_slot(7, starts_at=clock.now - timedelta(hours=1), ends_at=clock.now),
    )
    first = await booking.free_slots(ListFreeSlots(limit=2))
    assert [i.starts_at for i in first.items] == [
        START + timedelta(minutes=20),
        START + timedelta(minutes=60),
    ]
    place = first.items[0].place
    assert place.organization_name == ORGANIZATION.short_name
    assert place.organization_address == ORGANIZATION.address.one_line
    assert place.doctor_name == SPECIALIST.full_name
    assert first.next_cursor is not None
    rest = await booking.free_slots(ListFreeSlots(limit=5, cursor=first.next_cursor))
    assert [i.starts_at for i in rest.items] == [
        START + timedelta(minutes=100),
        START + timedelta(days=2),
    ]
    assert rest.next_cursor is None
    cardiology = await booking.free_slots(ListFreeSlots(specialty=Specialty.CARDIOLOGY))
    assert [i.place.specialist_id for i in cardiology.items] == [OTHER_SPECIALIST]
    assert cardiology.items[0].place.doctor_name is None  # the registry does not know them
    day = START.date()
    one_day = await booking.free_slots(ListFreeSlots(date_from=day, date_to=day))
    assert len(one_day.items) == 3
    later = await booking.free_slots(ListFreeSlots(date_from=day + timedelta(days=1)))
    assert [i.starts_at for i in later.items] == [START + timedelta(days=2)]
    by_service = await booking.free_slots(ListFreeSlots(service_code="A00.000.000"))
    assert by_service.items == ()


async def test_booking_takes_the_slot_and_owes_the_clinic_and_the_patient(
    schedules: Schedules, booking: Booking, stores: tuple[SlotsRepository, AppointmentsRepository]
) -> None:
    await publish(schedules, clinic_slot(1))
    slot_id = (await booking.free_slots(ListFreeSlots())).items[0].id
    appointment = await booking.book(BookAppointment(context=mine(), slot_id=slot_id))
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.place.room == "214"
    assert appointment.place.organization_name == ORGANIZATION.short_name
    assert [p.text for p in appointment.preparation] == ["Возьмите полис."]
    assert (await booking.free_slots(ListFreeSlots())).items == ()
    owed = await stores[1].outbox.pending()
    entries = owed[0].entries
    assert [e.routing_key for e in entries] == [
        f"clinic.{ORGANIZATION.id}.appointments",
        NOTIFY_QUEUE,
    ]
    booked = AppointmentBooked.model_validate_json(entries[0].body)
    assert booked.clinic_slot_id == "s-1"
    notice = SendNotification.model_validate_json(entries[1].body)
    assert "Возьмите полис." in notice.body
    # An own booking owes no journal entry: only the clinic's message and the notice above.


async def test_twenty_concurrent_bookings_of_one_slot_have_exactly_one_winner(
    schedules: Schedules, booking: Booking
) -> None:
    await publish(schedules, clinic_slot(1))
    slot_id = (await booking.free_slots(ListFreeSlots())).items[0].id
    patients = [uuid4() for _ in range(20)]
    outcomes = await asyncio.gather(
        *(booking.book(BookAppointment(context=mine(p), slot_id=slot_id)) for p in patients),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, ServiceError)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert {e.code for e in losers} == {ErrorCode.SLOT_TAKEN}


async def test_one_active_appointment_per_specialist_and_day_and_the_second_slot_stays_free(
    schedules: Schedules, booking: Booking
) -> None:
    await publish(schedules, clinic_slot(1), clinic_slot(2))
    first, second = (await booking.free_slots(ListFreeSlots())).items
    await booking.book(BookAppointment(context=mine(), slot_id=first.id))
    with pytest.raises(ServiceError) as refused:
        await booking.book(BookAppointment(context=mine(), slot_id=second.id))
    assert refused.value.code is ErrorCode.ONE_APPOINTMENT_A_DAY
    assert "уже есть запись" in refused.value.message
    assert [i.id for i in (await booking.free_slots(ListFreeSlots())).items] == [second.id]


async def test_a_slot_in_the_past_cannot_be_booked(
    schedules: Schedules, booking: Booking, clock: Clock
) -> None:
    await publish(schedules, clinic_slot(1))
    slot_id = (await booking.free_slots(ListFreeSlots())).items[0].id
    clock.now = START + timedelta(minutes=30)
    with pytest.raises(ServiceError) as refused:
        await booking.book(BookAppointment(context=mine(), slot_id=slot_id))
    assert refused.value.code is ErrorCode.SLOT_IN_PAST


async def test_cancelling_frees_the_slot_at_once_until_the_start_only(
    schedules: Schedules,
    booking: Booking,
    clock: Clock,
    stores: tuple[SlotsRepository, AppointmentsRepository],
) -> None:
    await publish(schedules, clinic_slot(1), clinic_slot(2))
    first, second = (await booking.free_slots(ListFreeSlots())).items
    appointment = await booking.book(BookAppointment(context=mine(), slot_id=first.id))
    done = await booking.cancel(CancelAppointment(context=mine(), appointment_id=appointment.id))
    assert done.status is AppointmentStatus.CANCELLED
    assert [i.id for i in (await booking.free_slots(ListFreeSlots())).items] == [
        first.id,
        second.id,
    ]
    owed = (await stores[1].outbox.pending())[0].entries
    cancelled = AppointmentCancelled.model_validate_json(owed[2].body)
    assert cancelled.appointment_id == appointment.id
    with pytest.raises(ServiceError) as twice:  # once only
        await booking.cancel(CancelAppointment(context=mine(), appointment_id=appointment.id))
    assert twice.value.code is ErrorCode.APPOINTMENT_CANCELLED
    again = await booking.book(BookAppointment(context=mine(), slot_id=second.id))
    clock.now = again.starts_at
    with pytest.raises(ServiceError) as started:
        await booking.cancel(CancelAppointment(context=mine(), appointment_id=again.id))
    assert started.value.code is ErrorCode.APPOINTMENT_STARTED
    listed = await booking.list(ListAppointments(context=mine()))
    assert [a.id for a in listed.items] == [again.id, appointment.id]
    booked = await booking.list(ListAppointments(context=mine(), status=AppointmentStatus.BOOKED))
    assert [a.id for a in booked.items] == [again.id]


async def test_the_list_pages_upcoming_soonest_first_then_past_latest_first_without_overlap(
    schedules: Schedules, booking: Booking, clock: Clock
) -> None:
    days = [
        clinic_slot(
            d, starts_at=START + timedelta(days=d), ends_at=START + timedelta(days=d, hours=1)
        )
        for d in range(5)
    ]
    await publish(schedules, *days)
    booked = [
        await booking.book(BookAppointment(context=mine(), slot_id=slot.id))
        for slot in (await booking.free_slots(ListFreeSlots())).items
    ]
    clock.now = START + timedelta(days=2, minutes=1)  # days 0-2 past, 3 and 4 upcoming
    pages: list[list[UUID]] = []
    cursor = None
    while True:
        page = await booking.list(ListAppointments(context=mine(), cursor=cursor, limit=2))
        pages.append([a.id for a in page.items])
        clock.now += timedelta(days=1)  # later pages keep the first page's split
        if (cursor := page.next_cursor) is None:
            break
    by_day = [a.id for a in booked]
    assert pages == [[by_day[3], by_day[4]], [by_day[2], by_day[1]], [by_day[0]]]
    first = await booking.list(ListAppointments(context=mine(), limit=2))
    assert first.next_cursor is not None
    upcoming = ListAppointments(context=mine(), status=AppointmentStatus.BOOKED, limit=5)
    assert len((await booking.list(upcoming)).items) == 5


async def test_a_parent_books_for_a_child_journaled_and_a_stranger_learns_nothing(
    schedules: Schedules, booking: Booking, stores: tuple[SlotsRepository, AppointmentsRepository]
) -> None:
    await publish(schedules, clinic_slot(1))
    slot_id = (await booking.free_slots(ListFreeSlots())).items[0].id
    for_child = AccessContext(actor_id=PARENT, patient_id=CHILD)
    appointment = await booking.book(BookAppointment(context=for_child, slot_id=slot_id))
    assert appointment.patient_id == CHILD
    await booking.cancel(CancelAppointment(context=for_child, appointment_id=appointment.id))
    [owed] = await stores[1].outbox.pending()
    journaled = [
        AppointmentActedFor.model_validate_json(e.body)
        for e in owed.entries
        if e.routing_key == APPOINTMENT_ACTED_FOR
    ]
    assert {e.exchange for e in owed.entries if e.routing_key == APPOINTMENT_ACTED_FOR} == {
        topology.EVENTS_EXCHANGE
    }
    assert [(e.action, e.actor_id, e.patient_id, e.basis, e.basis_label) for e in journaled] == [
        (AppointmentAction.BOOK, PARENT, CHILD, LegalBasis.PARENT_OF_MINOR, BIRTH_CERTIFICATE),
        (AppointmentAction.CANCEL, PARENT, CHILD, LegalBasis.PARENT_OF_MINOR, BIRTH_CERTIFICATE),
    ]
    assert {e.appointment_id for e in journaled} == {appointment.id}
    assert [e.actor.name if e.actor else None for e in journaled] == [PARENT_NAME] * 2
    for stranger in (uuid4(), ATTORNEY_WITHOUT_BOOKING):
        context = AccessContext(actor_id=stranger, patient_id=CHILD)
        for call in (
            booking.book(BookAppointment(context=context, slot_id=slot_id)),
            booking.get(GetAppointment(context=context, appointment_id=appointment.id)),
        ):
            with pytest.raises(ServiceError) as hidden:
                await call
            assert hidden.value.code is ErrorCode.NOT_FOUND
    other = AccessContext(actor_id=PATIENT, patient_id=PATIENT)
    with pytest.raises(ServiceError) as not_theirs:
        await booking.get(GetAppointment(context=other, appointment_id=appointment.id))
    assert not_theirs.value.code is ErrorCode.NOT_FOUND


async def test_a_slot_the_clinic_withdraws_while_booked_cancels_the_appointment_with_a_notice(
    schedules: Schedules, booking: Booking, stores: tuple[SlotsRepository, AppointmentsRepository]
) -> None:
    await publish(schedules, clinic_slot(1), clinic_slot(2))
    first, second = (await booking.free_slots(ListFreeSlots())).items
    appointment = await booking.book(BookAppointment(context=mine(), slot_id=first.id))
    await publish(schedules, clinic_slot(1, version=2, withdrawn=True))
    await publish(schedules, clinic_slot(2, version=2, withdrawn=True))  # free: just gone
    after = await booking.get(GetAppointment(context=mine(), appointment_id=appointment.id))
    assert after.status is AppointmentStatus.CANCELLED
    assert after.cancel_reason == "withdrawn"
    assert (await booking.free_slots(ListFreeSlots())).items == ()
    entries = (await stores[1].outbox.pending())[0].entries
    told = AppointmentCancelled.model_validate_json(entries[-2].body)
    assert (told.appointment_id, told.reason) == (appointment.id, "withdrawn")
    notice = SendNotification.model_validate_json(entries[-1].body)
    assert "Клиника отменила приём" in notice.body
    await publish(schedules, clinic_slot(1, version=3, withdrawn=True))  # nothing owed again
    assert len((await stores[1].outbox.pending())[0].entries) == len(entries)
    # the patient may book the same doctor that day again
    await publish(schedules, clinic_slot(3))
    third = (await booking.free_slots(ListFreeSlots())).items[0]
    assert third.id != second.id
    await booking.book(BookAppointment(context=mine(), slot_id=third.id))


async def test_a_reminder_is_owed_once_by_one_of_two_workers_a_day_before_with_preparation(
    schedules: Schedules,
    booking: Booking,
    stores: tuple[SlotsRepository, AppointmentsRepository],
    rpc: FakeRpc,
    clock: Clock,
) -> None:
    await publish(schedules, clinic_slot(1), clinic_slot(2, specialist_id=OTHER_SPECIALIST))
    first, second = (await booking.free_slots(ListFreeSlots())).items
    kept = await booking.book(BookAppointment(context=mine(), slot_id=first.id))
    dropped = await booking.book(BookAppointment(context=mine(), slot_id=second.id))
    await booking.cancel(CancelAppointment(context=mine(), appointment_id=dropped.id))
    other_worker = new_booking(stores, rpc, clock)
    clock.now = kept.starts_at - timedelta(hours=25)
    assert await booking.remind_due() == 0  # not due yet
    clock.now = kept.starts_at - timedelta(hours=24)
    claimed = await asyncio.gather(booking.remind_due(), other_worker.remind_due())
    assert sorted(claimed) == [0, 1]
    assert await new_booking(stores, rpc, clock).remind_due() == 0  # after a restart: sent
    owed = {o.key: o.entries for o in await stores[1].outbox.pending()}
    sms = [
        SendNotification.model_validate_json(e.body)
        for e in owed[str(kept.id)]
        if "appointment_reminder" in e.body
    ]
    assert len(sms) == 1
    assert "Возьмите полис." in sms[0].body
    assert "кабинет 214" in sms[0].body
    assert ORGANIZATION.address.one_line in sms[0].body
    assert not [e for e in owed[str(dropped.id)] if "appointment_reminder" in e.body]


async def test_of_two_workers_that_saw_one_reminder_due_exactly_one_claims_it(
    schedules: Schedules,
    booking: Booking,
    stores: tuple[SlotsRepository, AppointmentsRepository],
    clock: Clock,
) -> None:
    await publish(schedules, clinic_slot(1))
    slot_id = (await booking.free_slots(ListFreeSlots())).items[0].id
    kept = await booking.book(BookAppointment(context=mine(), slot_id=slot_id))
    clock.now = kept.starts_at - timedelta(hours=1)
    appointments = stores[1]
    seen = [await appointments.due_reminder(clock.now) for _ in range(2)]
    assert [a.id for a in seen if a is not None] == [kept.id, kept.id]
    sms = OutboxEntry.command(
        NOTIFY_QUEUE, SendNotification(recipient_account_id=PATIENT, title="t", body="b")
    )
    claims = [await appointments.claim_reminder(kept.id, clock.now, sms) for _ in seen]
    assert claims == [True, False]
    assert await appointments.due_reminder(clock.now) is None


STAFF = AccessContext(actor_id=uuid4())


async def test_staff_publish_and_withdraw_slots_on_identitys_decision(
    schedules: Schedules, booking: Booking, rpc: FakeRpc
) -> None:
    granted = {ORGANIZATION.id}

    async def decide(request: AuthorizeOrganizationAction) -> OrganizationDecision:
        return OrganizationDecision(
            allowed=request.organization_id in granted,
            actor_id=request.context.actor_id,
            organization_id=request.organization_id,
            action=request.action,
            reason="не уполномочены",
        )

    rpc.answer(AUTHORIZE_ORGANIZATION_ACTION, decide)

    def by_staff(*slots: ClinicSlot) -> PublishScheduleForOrganization:
        return PublishScheduleForOrganization(
            context=STAFF, organization_id=ORGANIZATION.id, slots=slots
        )

    published = await schedules.publish_for_organization(by_staff(clinic_slot(1), clinic_slot(2)))
    withdrawn = await schedules.publish_for_organization(
        by_staff(clinic_slot(1, version=2, withdrawn=True))
    )
    granted.clear()
    with pytest.raises(ServiceError) as refused:
        await schedules.publish_for_organization(by_staff(clinic_slot(3)))

    assert (published.changed, withdrawn.changed) == (2, 1)
    assert len(await free(booking)) == 1
    assert refused.value.code is ErrorCode.NOT_ORGANIZATION_STAFF
    asked = rpc.sent(AUTHORIZE_ORGANIZATION_ACTION)
    assert {a.action for a in asked} == {OrganizationAction.MANAGE_SCHEDULES}
    assert asked[1].subject == "расписание: 0 слотов, снято 1"
