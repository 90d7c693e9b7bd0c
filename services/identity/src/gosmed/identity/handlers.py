"""RPC subscribers: contract in -> use case -> contract out."""

from gosmed.contracts.identity.access import (
    AUTHENTICATE,
    AUTHORIZE,
)
from gosmed.contracts.identity.action_codes import CHECK_ACTION_CODE, ISSUE_ACTION_CODE
from gosmed.contracts.identity.auth import (
    END_SESSIONS,
    GET_PROFILE,
    LIST_PATIENTS,
    LIST_SESSIONS,
    REFRESH_SESSION,
    SEND_LOGIN_CODE,
    START_LOGIN,
    START_SMS_LOGIN,
    VERIFY_LOGIN,
    VERIFY_SMS_LOGIN,
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
    ACCEPT_DELEGATION,
    CONFIRM_TOTP,
    CREATE_DELEGATION,
    GET_DELEGATION,
    LIST_DELEGATIONS,
    REVOKE_DELEGATION,
    START_TOTP_ENROLMENT,
    VERIFY_DELEGATION,
)
from gosmed.contracts.identity.inbox import LIST_NOTIFICATIONS, MARK_NOTIFICATION_READ
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE, SendNotification
from gosmed.contracts.identity.organizations import (
    AUTHORIZE_ORGANIZATION_ACTION,
    GRANT_STAFF_AUTHORITY,
    LIST_ORGANIZATION_JOURNAL,
    LIST_ORGANIZATION_STAFF,
    REVOKE_STAFF_AUTHORITY,
)
from gosmed.contracts.identity.shares import CREATE_SHARE, LIST_SHARES, REVOKE_SHARE
from gosmed.contracts.identity.support import (
    ANSWER_SUPPORT_REQUEST,
    FILE_SUPPORT_REQUEST,
    GET_SUPPORT_CONTACTS,
    LIST_SUPPORT_REQUESTS,
)
from gosmed.contracts.identity.tokens import GET_JWKS, LIST_ENDED_SESSIONS
from gosmed.identity.action_codes import ActionCodes
from gosmed.identity.announcements import SessionAnnouncer
from gosmed.identity.authenticator import AuthenticatorService
from gosmed.identity.consents import ConsentService
from gosmed.identity.delegations import DelegationService
from gosmed.identity.login import LoginService
from gosmed.identity.notifications import NotificationService
from gosmed.identity.organizations import OrganizationService
from gosmed.identity.service import AccessService
from gosmed.identity.shares import ShareService
from gosmed.identity.support import SupportService
from gosmed.runtime.service import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    login: LoginService,
    access: AccessService,
    notifications: NotificationService,
    delegations: DelegationService,
    consents: ConsentService,
    announcer: SessionAnnouncer,
    authenticator: AuthenticatorService,
    shares: ShareService,
) -> None:
    """Each RPC is answered by one use case, typed by its descriptor."""
    serve = runtime.serve
    serve(START_LOGIN, login.start)
    serve(START_SMS_LOGIN, login.start_by_sms)
    serve(VERIFY_SMS_LOGIN, login.verify_sms)
    serve(SEND_LOGIN_CODE, login.send_code)
    serve(VERIFY_LOGIN, login.verify)
    serve(REFRESH_SESSION, login.refresh)
    serve(END_SESSIONS, login.end_sessions)
    serve(LIST_SESSIONS, login.list_sessions)
    serve(AUTHENTICATE, login.authenticate)
    serve(GET_JWKS, login.jwks)
    serve(LIST_ENDED_SESSIONS, announcer.ended_sessions)
    serve(AUTHORIZE, access.authorize)
    serve(GET_PROFILE, access.profile)
    serve(LIST_PATIENTS, access.patients)
    serve(START_TOTP_ENROLMENT, authenticator.start)
    serve(CONFIRM_TOTP, authenticator.confirm)
    serve(CREATE_SHARE, shares.create)
    serve(LIST_SHARES, shares.list)
    serve(REVOKE_SHARE, shares.revoke)
    serve(CREATE_DELEGATION, delegations.create)
    serve(LIST_DELEGATIONS, delegations.list)
    serve(GET_DELEGATION, delegations.get)
    serve(REVOKE_DELEGATION, delegations.revoke)
    serve(ACCEPT_DELEGATION, delegations.accept)
    serve(VERIFY_DELEGATION, delegations.verify)
    serve(CREATE_INSURER_CONSENT, consents.create_consent)
    serve(LIST_INSURER_CONSENTS, consents.list_consents)
    serve(GET_INSURER_CONSENT, consents.get_consent)
    serve(REVOKE_INSURER_CONSENT, consents.revoke_consent)
    serve(REQUEST_INSURER_ACCESS, consents.request_access)
    serve(CONFIRM_INSURER_REQUEST, consents.confirm_request)
    serve(CREATE_INSPECTOR_ORDER, consents.create_order)
    serve(LIST_INSPECTOR_ORDERS, consents.list_orders)
    serve(GET_INSPECTOR_ORDER, consents.get_order)
    serve(REVOKE_INSPECTOR_ORDER, consents.revoke_order)
    serve(LIST_NOTIFICATIONS, notifications.list)
    serve(MARK_NOTIFICATION_READ, notifications.mark_read)
    runtime.consume(
        NOTIFY_QUEUE,
        SendNotification,
        notifications.accept,
        description="Notices for a citizen's inbox, delivered by SMS and e-mail when asked.",
    )


def register_support(runtime: ServiceRuntime, support: SupportService) -> None:
    """Support requests: citizens file them, operators answer them; where to get help."""
    runtime.serve(FILE_SUPPORT_REQUEST, support.file)
    runtime.serve(LIST_SUPPORT_REQUESTS, support.list)
    runtime.serve(ANSWER_SUPPORT_REQUEST, support.answer)
    runtime.serve(GET_SUPPORT_CONTACTS, support.contacts)


def register_action_codes(runtime: ServiceRuntime, codes: ActionCodes) -> None:
    """Confirmation codes of other services' sensitive actions."""
    runtime.serve(ISSUE_ACTION_CODE, codes.issue)
    runtime.serve(CHECK_ACTION_CODE, codes.check)


def register_organizations(runtime: ServiceRuntime, organizations: OrganizationService) -> None:
    """The RPCs of organizations' representatives."""
    runtime.serve(AUTHORIZE_ORGANIZATION_ACTION, organizations.authorize)
    runtime.serve(LIST_ORGANIZATION_STAFF, organizations.staff)
    runtime.serve(LIST_ORGANIZATION_JOURNAL, organizations.journal)
    runtime.serve(GRANT_STAFF_AUTHORITY, organizations.grant)
    runtime.serve(REVOKE_STAFF_AUTHORITY, organizations.revoke)
