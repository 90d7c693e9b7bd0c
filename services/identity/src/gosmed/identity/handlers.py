"""RPC subscribers: contract in -> use case -> contract out."""

from collections.abc import Awaitable, Callable
from typing import Any

from gosmed.contracts import topology
from gosmed.contracts.identity.access import (
    AUTHENTICATE,
    AUTHORIZE,
)
from gosmed.contracts.identity.auth import (
    END_SESSIONS,
    GET_PROFILE,
    LIST_PATIENTS,
    LIST_SESSIONS,
    REFRESH_SESSION,
    SEND_LOGIN_CODE,
    START_LOGIN,
    VERIFY_LOGIN,
)
from gosmed.contracts.identity.consents import (
    CONFIRM_INSURER_REQUEST,
    CREATE_INSPECTOR_ORDER,
    CREATE_INSURER_CONSENT,
    GET_INSPECTOR_ORDER,
    GET_INSURER_CONSENT,
    LIST_INSPECTOR_ORDERS,
    LIST_INSURER_CONSENTS,
    REQUEST_INSURER_ACCESS,
    REVOKE_INSPECTOR_ORDER,
    REVOKE_INSURER_CONSENT,
)
from gosmed.contracts.identity.delegations import (
    CONFIRM_TOTP,
    CREATE_DELEGATION,
    GET_DELEGATION,
    LIST_DELEGATIONS,
    REVOKE_DELEGATION,
    START_TOTP_ENROLMENT,
    VERIFY_DELEGATION,
)
from gosmed.contracts.identity.inbox import LIST_NOTIFICATIONS, MARK_NOTIFICATION_READ
from gosmed.contracts.identity.notifications import SEND_NOTIFICATION
from gosmed.identity.consents import ConsentService
from gosmed.identity.delegations import DelegationService
from gosmed.identity.notifications import NotificationService
from gosmed.identity.service import AccessService, LoginService
from gosmed.runtime.service import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    login: LoginService,
    access: AccessService,
    notifications: NotificationService,
    delegations: DelegationService,
    consents: ConsentService,
) -> None:
    """Each RPC queue answers with one use case; its parameter and return types are the
    contracts FastStream validates and documents."""
    use_cases: dict[str, Callable[[Any], Awaitable[Any]]] = {
        START_LOGIN: login.start,
        SEND_LOGIN_CODE: login.send_code,
        VERIFY_LOGIN: login.verify,
        REFRESH_SESSION: login.refresh,
        END_SESSIONS: login.end_sessions,
        LIST_SESSIONS: login.list_sessions,
        AUTHENTICATE: login.authenticate,
        AUTHORIZE: access.authorize,
        GET_PROFILE: access.profile,
        LIST_PATIENTS: access.patients,
        START_TOTP_ENROLMENT: login.start_totp_enrolment,
        CONFIRM_TOTP: login.confirm_totp,
        CREATE_DELEGATION: delegations.create,
        LIST_DELEGATIONS: delegations.list,
        GET_DELEGATION: delegations.get,
        REVOKE_DELEGATION: delegations.revoke,
        VERIFY_DELEGATION: delegations.verify,
        CREATE_INSURER_CONSENT: consents.create_consent,
        LIST_INSURER_CONSENTS: consents.list_consents,
        GET_INSURER_CONSENT: consents.get_consent,
        REVOKE_INSURER_CONSENT: consents.revoke_consent,
        REQUEST_INSURER_ACCESS: consents.request_access,
        CONFIRM_INSURER_REQUEST: consents.confirm_request,
        CREATE_INSPECTOR_ORDER: consents.create_order,
        LIST_INSPECTOR_ORDERS: consents.list_orders,
        GET_INSPECTOR_ORDER: consents.get_order,
        REVOKE_INSPECTOR_ORDER: consents.revoke_order,
        LIST_NOTIFICATIONS: notifications.list,
        MARK_NOTIFICATION_READ: notifications.mark_read,
    }
    for method, use_case in use_cases.items():
        runtime.broker.subscriber(runtime.rpc_queue(method), title=f"identity.{method}")(use_case)
    send_notification = topology.command_queue(topology.Service.IDENTITY, SEND_NOTIFICATION)
    runtime.broker.subscriber(
        runtime.queue(send_notification),
        title=send_notification,
        description="Notices for a citizen's inbox, delivered by SMS and e-mail when asked.",
    )(notifications.accept)
