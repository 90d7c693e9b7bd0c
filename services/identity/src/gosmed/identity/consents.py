"""Use cases of insurers' consents and inspectors' orders."""

import logging
from datetime import timedelta
from typing import Literal
from uuid import UUID

from gosmed.contracts.access import Role
from gosmed.contracts.base import utc_now
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.consents import (
    CreateInspectorOrder,
    CreateInsurerConsent,
    InspectorOrderRequest,
    InspectorOrdersView,
    InspectorOrderView,
    InsurerConsentRequest,
    InsurerConsentsView,
    InsurerConsentView,
    ListInspectorOrders,
    ListInsurerConsents,
)
from gosmed.identity.domain import READ_ONLY_ACTIONS, Account, InspectorOrder, InsurerConsent
from gosmed.identity.service import Clock, Repositories

log = logging.getLogger(__name__)

CONSENT_NOT_FOUND = "Согласие не найдено."
ORDER_NOT_FOUND = "Приказ не найден."


class ConsentService:
    def __init__(self, repos: Repositories, request_days: int, clock: Clock = utc_now) -> None:
        self.repos = repos
        self.request_validity = timedelta(days=request_days)
        self.clock = clock

    async def _consent_view(self, consent: InsurerConsent, viewer: UUID) -> InsurerConsentView:
        insurer = await self.repos.account(consent.insurer_id)
        patient = await self.repos.account(consent.patient_id)
        role: Literal["patient", "insurer"] = "patient" if viewer == patient.id else "insurer"
        return InsurerConsentView(
            consent_id=consent.id,
            insurer_id=insurer.id,
            insurer_name=insurer.full_name,
            patient_id=patient.id,
            patient_name=patient.full_name,
            contract_number=consent.contract_number,
            contract_valid_until=consent.contract_valid_until,
            consent_valid_until=consent.consent_valid_until,
            scopes=tuple(sorted(consent.scopes)),
            revoked=consent.revoked,
            request_status=consent.request_status(self.clock()),
            request_confirmed_until=consent.request_confirmed_until,
            my_role=role,
        )

    async def create_consent(self, request: CreateInsurerConsent) -> InsurerConsentView:
        patient = await self.repos.account(request.patient_id)
        insurer = await self.repos.accounts.by_snils(request.insurer_snils)
        if insurer is None or Role.INSURER not in insurer.roles:
            raise ServiceError(
                ErrorCode.NOT_FOUND, "Представитель страховой компании с таким СНИЛС не найден."
            )
        if not request.scopes <= READ_ONLY_ACTIONS:
            raise ServiceError(
                ErrorCode.VALIDATION_FAILED, "Страховой компании доступно только чтение."
            )
        today = self.clock().date()
        if min(request.contract_valid_until, request.consent_valid_until) < today:
            raise ServiceError(ErrorCode.VALIDATION_FAILED, "Срок договора или согласия истёк.")
        consent = InsurerConsent(
            id=str(request.message_id),
            insurer_id=insurer.id,
            patient_id=patient.id,
            contract_number=request.contract_number,
            contract_valid_until=request.contract_valid_until,
            consent_valid_until=request.consent_valid_until,
            scopes=request.scopes,
        )
        if await self.repos.grants.create_insurer_consent(consent):
            log.info("insurer consent %s given", consent.id)
            return await self._consent_view(consent, patient.id)
        return await self._changed(consent.id, patient.id)  # a repeated request: as it is now

    async def list_consents(self, request: ListInsurerConsents) -> InsurerConsentsView:
        found = await self.repos.grants.insurer_consents_about(request.account_id)
        return InsurerConsentsView(
            consents=tuple([await self._consent_view(c, request.account_id) for c in found])
        )

    async def _party_consent(self, request: InsurerConsentRequest) -> InsurerConsent:
        consent = await self.repos.grants.insurer_consent(request.consent_id)
        if consent is None or request.account_id not in (consent.patient_id, consent.insurer_id):
            raise ServiceError(ErrorCode.NOT_FOUND, CONSENT_NOT_FOUND)
        return consent

    async def _changed(self, consent_id: str, viewer: UUID) -> InsurerConsentView:
        consent = await self.repos.grants.insurer_consent(consent_id)
        if consent is None:
            raise ServiceError(ErrorCode.NOT_FOUND, CONSENT_NOT_FOUND)
        return await self._consent_view(consent, viewer)

    async def get_consent(self, request: InsurerConsentRequest) -> InsurerConsentView:
        return await self._consent_view(await self._party_consent(request), request.account_id)

    async def revoke_consent(self, request: InsurerConsentRequest) -> InsurerConsentView:
        consent = await self._party_consent(request)
        if request.account_id != consent.patient_id:
            raise ServiceError(ErrorCode.FORBIDDEN, "Отозвать согласие может только пациент.")
        if not await self.repos.grants.update_insurer_consent(consent.id, {}, {"revoked": True}):
            raise ServiceError(ErrorCode.CONFLICT, "Согласие уже отозвано.")
        log.info("insurer consent %s revoked", consent.id)
        return await self._changed(consent.id, request.account_id)

    async def request_access(self, request: InsurerConsentRequest) -> InsurerConsentView:
        consent = await self._party_consent(request)
        if request.account_id != consent.insurer_id:
            raise ServiceError(ErrorCode.FORBIDDEN, "Запрос направляет страховая компания.")
        changes = {"access_requested_at": self.clock(), "request_confirmed_until": None}
        if not await self.repos.grants.update_insurer_consent(consent.id, {}, changes):
            raise ServiceError(ErrorCode.CONFLICT, "Согласие отозвано.")
        return await self._changed(consent.id, request.account_id)

    async def confirm_request(self, request: InsurerConsentRequest) -> InsurerConsentView:
        consent = await self._party_consent(request)
        if request.account_id != consent.patient_id:
            raise ServiceError(ErrorCode.FORBIDDEN, "Запрос подтверждает пациент.")
        pending = {"access_requested_at": {"$ne": None}}
        changes = {
            "request_confirmed_until": self.clock() + self.request_validity,
            "access_requested_at": None,
        }
        if not await self.repos.grants.update_insurer_consent(consent.id, pending, changes):
            raise ServiceError(ErrorCode.CONFLICT, "Нет запроса, ожидающего подтверждения.")
        log.info("insurer request on consent %s confirmed", consent.id)
        return await self._changed(consent.id, request.account_id)

    async def _order_view(self, order: InspectorOrder) -> InspectorOrderView:
        inspector = await self.repos.account(order.inspector_id)
        return InspectorOrderView(
            order_id=order.id,
            inspector_id=inspector.id,
            inspector_name=inspector.full_name,
            number=order.number,
            order_date=order.order_date,
            patient_ids=tuple(sorted(order.patient_ids)),
            scopes=tuple(sorted(order.scopes)),
            valid_from=order.valid_from,
            valid_until=order.valid_until,
            revoked=order.revoked,
        )

    async def _operator(self, account_id: UUID) -> Account:
        account = await self.repos.account(account_id)
        if Role.OPERATOR not in account.roles:
            raise ServiceError(ErrorCode.FORBIDDEN, "Приказы регистрирует оператор.")
        return account

    async def create_order(self, request: CreateInspectorOrder) -> InspectorOrderView:
        await self._operator(request.operator_id)
        inspector = await self.repos.accounts.by_snils(request.inspector_snils)
        if inspector is None or Role.INSPECTOR not in inspector.roles:
            raise ServiceError(ErrorCode.NOT_FOUND, "Инспектор с таким СНИЛС не найден.")
        patients = [await self.repos.accounts.by_snils(s) for s in request.patient_snils]
        if any(p is None for p in patients):
            raise ServiceError(ErrorCode.NOT_FOUND, "Не все пациенты приказа найдены.")
        order = InspectorOrder(
            id=str(request.message_id),
            inspector_id=inspector.id,
            number=request.number,
            order_date=request.order_date,
            patient_ids=frozenset(p.id for p in patients if p is not None),
            scopes=request.scopes & READ_ONLY_ACTIONS,
            valid_from=request.valid_from,
            valid_until=request.valid_until,
        )
        if await self.repos.grants.create_inspector_order(order):
            log.info("inspector order %s registered", order.id)
        else:  # a repeated request: the order it registered, as it is now
            order = await self._stored_order(order.id)
        return await self._order_view(order)

    async def list_orders(self, request: ListInspectorOrders) -> InspectorOrdersView:
        viewer = await self.repos.account(request.account_id)
        if Role.OPERATOR in viewer.roles:
            found = await self.repos.grants.all_inspector_orders()
        else:
            found = await self.repos.grants.inspector_orders_of(viewer.id)
        return InspectorOrdersView(orders=tuple([await self._order_view(o) for o in found]))

    async def _visible_order(
        self, request: InspectorOrderRequest
    ) -> tuple[InspectorOrder, Account]:
        viewer = await self.repos.account(request.account_id)
        order = await self.repos.grants.inspector_order(request.order_id)
        if order is None or (order.inspector_id != viewer.id and Role.OPERATOR not in viewer.roles):
            raise ServiceError(ErrorCode.NOT_FOUND, ORDER_NOT_FOUND)
        return order, viewer

    async def get_order(self, request: InspectorOrderRequest) -> InspectorOrderView:
        order, _ = await self._visible_order(request)
        return await self._order_view(order)

    async def revoke_order(self, request: InspectorOrderRequest) -> InspectorOrderView:
        order, viewer = await self._visible_order(request)
        await self._operator(viewer.id)
        if not await self.repos.grants.revoke_inspector_order(order.id):
            raise ServiceError(ErrorCode.CONFLICT, "Приказ уже отозван.")
        log.info("inspector order %s revoked", order.id)
        return await self._order_view(await self._stored_order(order.id))

    async def _stored_order(self, order_id: str) -> InspectorOrder:
        order = await self.repos.grants.inspector_order(order_id)
        if order is None:
            raise ServiceError(ErrorCode.NOT_FOUND, ORDER_NOT_FOUND)
        return order
