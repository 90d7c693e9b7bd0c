"""Use cases of scheduling: clinics' schedules in, free slots, booking and cancelling."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from uuid import UUID, uuid4

from gosmed.contracts import topology
from gosmed.contracts.access import AccessContext
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.access import AccessDecision, Action, PatientRef
from gosmed.contracts.identity.notifications import (
    NOTIFY_QUEUE,
    NotificationChannel,
    SendNotification,
)
from gosmed.contracts.identity.organizations import OrganizationAction
from gosmed.contracts.scheduling.appointments import (
    Appointment,
    AppointmentList,
    AppointmentStatus,
    BookAppointment,
    CancelAppointment,
    GetAppointment,
    ListAppointments,
    ListFreeSlots,
    SlotsPage,
)
from gosmed.contracts.scheduling.journal import (
    APPOINTMENT_ACTED_FOR,
    AppointmentActedFor,
    AppointmentAction,
)
from gosmed.contracts.scheduling.schedules import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentPatient,
    PublishSchedule,
    PublishScheduleForOrganization,
    ScheduleAccepted,
)
from gosmed.runtime.cursor import decode_cursor, encode_cursor
from gosmed.runtime.outbox import OutboxEntry, Relay
from gosmed.scheduling.domain import (
    ALREADY_CANCELLED,
    APPOINTMENT_NOT_FOUND,
    MOSCOW,
    ONE_A_DAY,
    SLOT_TAKEN,
    ListPosition,
    Phase,
    Slot,
    check_bookable,
    check_cancellable,
    chosen_service,
    day_key,
    preparation_for,
)
from gosmed.scheduling.domain import cancelled as cancelled_appointment
from gosmed.scheduling.ports import Identity, Registry
from gosmed.scheduling.repository import AppointmentsRepository, SlotFilter, SlotsRepository

log = logging.getLogger(__name__)
PATIENT_NOT_FOUND = "Пациент не найден."
BY_PATIENT = "patient"
BY_CLINIC = "withdrawn"
WITHDRAWN_REASON = "Клиника отменила приём в это время."


class Schedules:
    """Clinics' schedules, taken through the door (the organization is the sender's); a slot
    withdrawn while booked cancels its appointment and tells the patient why."""

    def __init__(self, slots: SlotsRepository, booking: "Booking") -> None:
        self.slots = slots
        self.booking = booking

    async def publish_for_organization(
        self, request: PublishScheduleForOrganization
    ) -> ScheduleAccepted:
        """A staff member publishes in the clinic's name (identity decides and journals), as
        the clinic's integration does through the door."""
        withdrawn = sum(s.withdrawn for s in request.slots)
        await self.booking.identity.act_for_organization(
            request.context,
            request.organization_id,
            OrganizationAction.MANAGE_SCHEDULES,
            f"расписание: {len(request.slots) - withdrawn} слотов, снято {withdrawn}",
        )
        return await self.publish(request.organization_id, request)

    async def publish(self, organization_id: UUID, request: PublishSchedule) -> ScheduleAccepted:
        latest: dict[str, Slot] = {}
        for clinic_slot in request.slots:  # the newest version of a slot sent twice wins
            slot = Slot.of(organization_id, clinic_slot)
            held = latest.get(slot.clinic_slot_id)
            if held is None or held.version < slot.version:
                latest[slot.clinic_slot_id] = slot
        changed = await self.slots.save(latest.values())
        withdrawn = [s.id for s in latest.values() if s.withdrawn]
        if withdrawn:
            for slot in await self.slots.booked_withdrawn(withdrawn):
                await self.booking.withdrawn(slot)
        log.info("schedule of %s: %d slots changed of %d", organization_id, changed, len(latest))
        return ScheduleAccepted(
            message_id=request.message_id, changed=changed, unchanged=len(request.slots) - changed
        )


class Booking:
    def __init__(
        self,
        slots: SlotsRepository,
        appointments: AppointmentsRepository,
        identity: Identity,
        registry: Registry,
        relay: Relay | None,
        clock: Callable[[], datetime],
        reminder_lead: timedelta = timedelta(hours=24),
    ) -> None:
        self.reminder_lead = reminder_lead
        self.slots = slots
        self.appointments = appointments
        self.identity = identity
        self.registry = registry
        self.relay = relay
        self.clock = clock

    # --- free slots ----------------------------------------------------------------------

    async def free_slots(self, request: ListFreeSlots) -> SlotsPage:
        now = self.clock()
        starts_from = now
        if request.date_from is not None:
            starts_from = max(now, datetime.combine(request.date_from, time(), MOSCOW))
        starts_before = None
        if request.date_to is not None:
            starts_before = datetime.combine(request.date_to + timedelta(days=1), time(), MOSCOW)
        after = None
        if request.cursor:
            starts_at, slot_id = decode_cursor(request.cursor, datetime.fromisoformat, UUID)
            after = (datetime.fromisoformat(starts_at), slot_id)
        where = SlotFilter(
            organization_id=request.organization_id,
            specialist_id=request.specialist_id,
            specialty=request.specialty,
            service_code=request.service_code,
            starts_from=starts_from,
            starts_before=starts_before,
        )
        found = await self.slots.free_page(where, after, request.limit + 1)
        page = found[: request.limit]
        cards = await self.registry.cards(
            {s.organization_id for s in page}, {s.specialist_id for s in page}
        )
        cursor = None
        if len(found) > request.limit:
            cursor = encode_cursor(page[-1].starts_at.isoformat(), str(page[-1].id))
        return SlotsPage(items=tuple(s.free(cards) for s in page), next_cursor=cursor)

    # --- appointments --------------------------------------------------------------------

    async def _patient(self, context: AccessContext) -> tuple[AccessDecision, PatientRef]:
        """Whom the actor may book for; a stranger learns nothing about the patient (404)."""
        decision = await self.identity.authorize(context, Action.BOOK_APPOINTMENTS)
        if decision.allowed and decision.patient is not None:
            return decision, decision.patient
        if context.acts_for_self:
            raise ServiceError(ErrorCode.FORBIDDEN, decision.reason or None)
        raise ServiceError(ErrorCode.NOT_FOUND, PATIENT_NOT_FOUND)

    async def book(self, request: BookAppointment) -> Appointment:
        decision, patient = await self._patient(request.context)
        now = self.clock()
        slot = check_bookable(await self.slots.get(request.slot_id), now)
        service_code = chosen_service(slot, request.service_code)
        cards = await self.registry.cards({slot.organization_id}, {slot.specialist_id})
        appointment = Appointment(
            id=uuid4(),
            patient_id=patient.account_id,
            slot_id=slot.id,
            status=AppointmentStatus.BOOKED,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            place=slot.place(cards),
            service_code=service_code,
            kind=slot.kind,
            preparation=preparation_for(slot, service_code),
            booked_at=now,
        )
        booked = AppointmentBooked(
            appointment_id=appointment.id,
            organization_id=slot.organization_id,
            clinic_slot_id=slot.clinic_slot_id,
            specialist_id=slot.specialist_id,
            starts_at=slot.starts_at,
            service_code=service_code,
            patient=AppointmentPatient(
                snils=patient.snils,
                oms_policy=patient.oms_policy,
                full_name=patient.full_name,
                birth_date=patient.birth_date,
            ),
        )
        owed = (
            OutboxEntry.command(_clinic_queue(slot.organization_id), booked),
            OutboxEntry.command(NOTIFY_QUEUE, _booked_notice(appointment)),
            *_journaled(decision, AppointmentAction.BOOK, appointment, now),
        )
        if not await self.slots.take(slot.id, appointment.id, now):
            raise ServiceError(ErrorCode.SLOT_TAKEN, SLOT_TAKEN)
        key = day_key(patient.account_id, slot.specialist_id, slot.starts_at)
        remind_at = slot.starts_at - self.reminder_lead
        if not await self.appointments.insert(appointment, key, remind_at, *owed):
            await self.slots.release(slot.id, appointment.id)
            raise ServiceError(ErrorCode.ONE_APPOINTMENT_A_DAY, ONE_A_DAY)
        await self._flush(appointment.id)
        log.info("appointment %s booked", appointment.id)
        return appointment

    async def list(self, request: ListAppointments) -> AppointmentList:
        """A page of the patient's appointments: the upcoming ones soonest first, then the
        past ones latest first; the cursor names the part and the last appointment shown."""
        _, patient = await self._patient(request.context)
        position = ListPosition.decode(request.cursor) if request.cursor else None
        boundary = position.boundary if position else self.clock()
        after = (position.starts_at, position.appointment_id) if position else None
        items: list[Appointment] = []
        more = False
        if position is None or position.phase is Phase.UPCOMING:
            found = await self.appointments.page_of_patient(
                patient.account_id,
                request.status,
                boundary,
                Phase.UPCOMING,
                after,
                request.limit + 1,
            )
            items, more, after = found[: request.limit], len(found) > request.limit, None
        if not more:
            room = request.limit - len(items)
            found = await self.appointments.page_of_patient(
                patient.account_id, request.status, boundary, Phase.PAST, after, room + 1
            )
            items, more = items + found[:room], len(found) > room
        cursor = ListPosition.after(boundary, items[-1]).encode() if more else None
        return AppointmentList(items=tuple(items), next_cursor=cursor)

    async def _own(self, patient: PatientRef, appointment_id: UUID) -> Appointment:
        appointment = await self.appointments.get(appointment_id)
        if appointment is None or appointment.patient_id != patient.account_id:
            raise ServiceError(ErrorCode.NOT_FOUND, APPOINTMENT_NOT_FOUND)
        return appointment

    async def get(self, request: GetAppointment) -> Appointment:
        _, patient = await self._patient(request.context)
        return await self._own(patient, request.appointment_id)

    async def cancel(self, request: CancelAppointment) -> Appointment:
        decision, patient = await self._patient(request.context)
        appointment = await self._own(patient, request.appointment_id)
        now = self.clock()
        check_cancellable(appointment, now)
        slot = await self.slots.get(appointment.slot_id)
        done = cancelled_appointment(appointment, now, BY_PATIENT)
        owed = [
            OutboxEntry.command(NOTIFY_QUEUE, _cancelled_notice(done)),
            *_journaled(decision, AppointmentAction.CANCEL, done, now),
        ]
        if slot is not None:
            message = AppointmentCancelled(
                appointment_id=done.id,
                organization_id=slot.organization_id,
                clinic_slot_id=slot.clinic_slot_id,
                starts_at=done.starts_at,
                reason=BY_PATIENT,
            )
            owed.insert(0, OutboxEntry.command(_clinic_queue(slot.organization_id), message))
        if not await self.appointments.cancel(done, *owed):
            raise ServiceError(ErrorCode.APPOINTMENT_CANCELLED, ALREADY_CANCELLED)  # meanwhile
        await self.slots.release(appointment.slot_id, appointment.id)
        await self._flush(done.id)
        log.info("appointment %s cancelled", done.id)
        return done

    async def withdrawn(self, slot: Slot) -> None:
        """The clinic took back a booked slot: cancel its appointment, tell the patient why
        and the clinic that it is done, and leave the slot free but withdrawn (not offered)."""
        if slot.appointment_id is None:
            return
        appointment = await self.appointments.get(slot.appointment_id)
        if appointment is not None and appointment.status is AppointmentStatus.BOOKED:
            now = self.clock()
            done = cancelled_appointment(appointment, now, BY_CLINIC)
            message = AppointmentCancelled(
                appointment_id=done.id,
                organization_id=slot.organization_id,
                clinic_slot_id=slot.clinic_slot_id,
                starts_at=done.starts_at,
                reason=BY_CLINIC,
            )
            owed = (
                OutboxEntry.command(_clinic_queue(slot.organization_id), message),
                OutboxEntry.command(NOTIFY_QUEUE, _withdrawn_notice(done)),
            )
            if await self.appointments.cancel(done, *owed):
                log.info("appointment %s cancelled: the clinic withdrew its slot", done.id)
                await self._flush(done.id)
        await self.slots.release(slot.id, slot.appointment_id)

    async def remind_due(self) -> int:
        """Owe the SMS of every due reminder this worker claims; how many it claimed."""
        claimed = 0
        while (due := await self.appointments.due_reminder(now := self.clock())) is not None:
            if await self.appointments.claim_reminder(due.id, now, _reminder(due)):
                claimed += 1
                await self._flush(due.id)
        return claimed

    async def remind_forever(self, every: float) -> None:
        while True:
            try:
                await self.remind_due()
            except Exception:  # the reminders must outlive any one failure
                log.exception("reminders failed")
            await asyncio.sleep(every)

    async def _flush(self, appointment_id: UUID) -> None:
        if self.relay is not None:
            await self.relay.flush(self.appointments.outbox, str(appointment_id))


def _clinic_queue(organization_id: UUID) -> str:
    return topology.clinic_queue(organization_id, topology.CLINIC_APPOINTMENTS)


def _journaled(
    decision: AccessDecision, action: AppointmentAction, appointment: Appointment, now: datetime
) -> tuple[OutboxEntry, ...]:
    """What an act for someone else owes the patient's access journal (records keeps it):
    the event with the actor and the legal basis; nothing when patients act for themselves."""
    if decision.actor_id == appointment.patient_id:
        return ()
    event = AppointmentActedFor(
        patient_id=appointment.patient_id,
        actor_id=decision.actor_id,
        actor=decision.actor,
        basis=decision.basis,
        basis_document_id=decision.basis_document_id,
        basis_label=decision.basis_label,
        action=action,
        appointment_id=appointment.id,
        at=now,
    )
    return (OutboxEntry.event(APPOINTMENT_ACTED_FOR, event),)


def _when(appointment: Appointment) -> str:
    return appointment.starts_at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def _where(appointment: Appointment) -> str:
    place = appointment.place
    parts = [place.organization_name, place.organization_address, f"кабинет {place.room}"]
    return ", ".join(p for p in parts if p)


def _booked_notice(appointment: Appointment) -> SendNotification:
    body = f"Вы записаны на приём {_when(appointment)}: {_where(appointment)}."
    preparation = " ".join(p.text for p in appointment.preparation)
    if preparation:
        body += f" Подготовка: {preparation}"
    return SendNotification(
        recipient_account_id=appointment.patient_id,
        title="Запись на приём",
        body=body[:4000],
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
        category="appointment_booked",
        link=f"/patients/{appointment.patient_id}/appointments/{appointment.id}",
    )


def _cancelled_notice(appointment: Appointment) -> SendNotification:
    return SendNotification(
        recipient_account_id=appointment.patient_id,
        title="Запись на приём отменена",
        body=f"Запись на приём {_when(appointment)} отменена: {_where(appointment)}."[:4000],
        channels=frozenset({NotificationChannel.INBOX, NotificationChannel.EMAIL}),
        category="appointment_cancelled",
        link=f"/patients/{appointment.patient_id}/appointments/{appointment.id}",
    )


def _withdrawn_notice(appointment: Appointment) -> SendNotification:
    return SendNotification(
        recipient_account_id=appointment.patient_id,
        title="Приём отменён клиникой",
        body=(
            f"Запись на приём {_when(appointment)} отменена: {WITHDRAWN_REASON} "
            f"{_where(appointment)}. Выберите другое время."
        )[:4000],
        channels=frozenset(
            {NotificationChannel.INBOX, NotificationChannel.EMAIL, NotificationChannel.SMS}
        ),
        category="appointment_withdrawn",
        link=f"/patients/{appointment.patient_id}/appointments/{appointment.id}",
    )


def _reminder(appointment: Appointment) -> OutboxEntry:
    """The SMS the day before: date, time, address, room and the preparation."""
    body = f"Напоминаем: приём {_when(appointment)}, {_where(appointment)}."
    preparation = " ".join(p.text for p in appointment.preparation)
    if preparation:
        body += f" Подготовка: {preparation}"
    notice = SendNotification(
        recipient_account_id=appointment.patient_id,
        title="Напоминание о приёме",
        body=body[:4000],
        channels=frozenset({NotificationChannel.SMS}),
        category="appointment_reminder",
        link=f"/patients/{appointment.patient_id}/appointments/{appointment.id}",
    )
    return OutboxEntry.command(NOTIFY_QUEUE, notice)
