"""What the OpenAPI document cannot derive from the routes: the answers only some operations
give (from the `ServiceError`s of the services behind them), and where the ids an operation
answers can be used. Paths are relative to the API prefix; the tests check every entry names an
operation that exists."""

SPECIAL_ANSWERS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/auth/login"): {
        401: "Wrong phone or password.",
        429: "Too many failed logins of this phone, from this address or both: locked for a "
        "while; or too many unfinished logins of the account.",
    },
    ("post", "/auth/login/sms"): {
        429: "A code went to this phone a moment ago (`resend_after` of that answer says "
        "when to ask again), or too many failed logins: locked for a while. The same for "
        "known and unknown phones.",
    },
    ("post", "/auth/login/sms/verify"): {
        401: "Wrong or expired code, or the challenge is unknown, used or out of tries.",
        409: "`no_second_factor`: the account has neither an authenticator app nor an "
        "e-mail, so it logs in with its password.",
        429: "Too many failed logins: locked for a while.",
    },
    ("post", "/auth/mfa/code"): {
        401: "The login attempt is unknown, finished, expired or out of tries.",
        409: "`conflict`: the account has no such factor (e.g. no e-mail); "
        "`factor_not_allowed`: an SMS code after a login begun with an SMS code.",
        429: "A code was sent a moment ago (`resend_after` of that answer says when to "
        "retry), or too many failed logins: locked for a while.",
        503: "The code could not be delivered; choose another factor.",
    },
    ("post", "/auth/mfa"): {
        401: "Wrong or reused code, or the login attempt is unknown, expired or out of tries.",
        409: "`factor_not_allowed`: an SMS code after a login begun with an SMS code.",
        429: "Too many failed logins: locked for a while.",
    },
    ("post", "/auth/refresh"): {
        401: "Unknown or reused refresh token (reuse ends the session), or the session ended.",
    },
    ("post", "/me/totp"): {
        403: "Wrong or missing password or current code, or (first app) the login is not fresh.",
        429: "Too many wrong passwords or codes: locked for a while.",
    },
    ("post", "/me/totp/confirm"): {
        409: "The enrolment is already confirmed or was replaced.",
        422: "Wrong code, or no enrolment was started.",
    },
    ("post", "/delegations"): {
        403: "The account is not confirmed, or the second factor is not fresh (send `code`).",
        409: "The delegation is refused (e.g. to oneself).",
        429: "Too many delegations given lately, or too many wrong codes.",
    },
    ("post", "/delegations/{delegation_id}/accept"): {
        403: "Only the holder of the SNILS it was given to accepts it.",
        409: "The delegation is not waiting for its agent.",
    },
    ("delete", "/delegations/{delegation_id}"): {409: "The delegation is already revoked."},
    ("post", "/delegations/{delegation_id}/verify"): {
        409: "The delegation is not waiting for verification.",
    },
    ("post", "/insurer-consents"): {404: "No insurer's representative has this SNILS."},
    ("delete", "/insurer-consents/{consent_id}"): {409: "The consent is already revoked."},
    ("post", "/insurer-consents/{consent_id}/request"): {409: "The consent is revoked."},
    ("post", "/insurer-consents/{consent_id}/confirm"): {
        409: "No request of the insurer is waiting for confirmation.",
    },
    ("post", "/inspector-orders"): {
        404: "No inspector has this SNILS, or a patient of the order is not found.",
    },
    ("delete", "/inspector-orders/{order_id}"): {409: "The order is already revoked."},
    ("get", "/documents/{document_id}"): {410: "The document has expired."},
    ("post", "/patients/{patient_id}/documents"): {
        422: "The body failed validation (`validation_failed`, `errors` names each field), or "
        "a `dynamics` report has no lab values of an asked analyte, or of any, in the period "
        "(`no_lab_values`, `errors` names each such analyte).",
    },
    ("post", "/organizations/{organization_id}/corrections/{correction_id}/answer"): {
        409: "The request is already closed (withdrawn, or answered otherwise).",
    },
    ("post", "/organizations/{organization_id}/reviews/{review_id}/answer"): {
        409: "The review changed meanwhile; send the answer again.",
    },
    ("post", "/organizations/{organization_id}/staff"): {
        403: "Only operators register powers of attorney of organizations.",
        404: "The organization has no corporate account, or no account has this SNILS.",
        409: "A power of attorney with this number exists.",
    },
    ("delete", "/organizations/{organization_id}/staff/{number}"): {
        403: "Only operators record revocations.",
    },
    ("post", "/patients/{patient_id}/services/{record_id}/corrections"): {
        409: "The record already has an open correction request.",
    },
    ("post", "/patients/{patient_id}/correction-attachments"): {
        413: "The file is larger than 5 MB (`file_too_large`).",
        415: "The file is not a PDF, JPEG or PNG by its content (`unsupported_file_type`).",
    },
    ("get", "/patients/{patient_id}/lab-results/{result_id}"): {
        410: "The result is past its 12 months after it was ready.",
    },
    ("get", "/patients/{patient_id}/lab-results/{result_id}/file"): {
        409: "The result is not ready yet.",
        410: "The result is past its 12 months after it was ready.",
    },
    ("post", "/patients/{patient_id}/lab-results/{result_id}/email"): {
        409: "The result is not ready yet, or the account has no confirmed e-mail.",
        410: "The result is past its 12 months after it was ready.",
    },
    ("delete", "/patients/{patient_id}/lab-results/{result_id}"): {
        403: "Only the patient or the parent of a minor deletes a result.",
        409: "The account has no phone for the code.",
        410: "The result is past its 12 months after it was ready.",
    },
    ("patch", "/patients/{patient_id}/lab-results/{result_id}"): {
        403: "Only the patient or the parent of a minor changes the note.",
        409: "The account has no phone for the code.",
        410: "The result is past its 12 months after it was ready.",
    },
    ("post", "/patients/{patient_id}/lab-results/{result_id}/confirmations/{confirmation_id}"): {
        410: "The result is past its 12 months after it was ready.",
    },
    ("get", "/operator/corrections"): {403: "Only operators see the corrections of clinics."},
    ("get", "/operator/organizations/{organization_id}/corrections-stats"): {
        403: "Only operators see the corrections of clinics.",
    },
    ("post", "/patients/{patient_id}/corrections/{correction_id}/withdraw"): {
        409: "The request is no longer open (answered or withdrawn).",
    },
    ("post", "/patients/{patient_id}/services/{record_id}/review"): {
        409: "The record already has a review, or the service is not completed.",
    },
    ("put", "/patients/{patient_id}/services/{record_id}/review"): {
        409: "The review changed at the same time; repeat.",
    },
    ("post", "/patients/{patient_id}/emk/files"): {
        409: "The patient's quota of files or bytes is used up (`quota_exceeded`).",
        413: "The file is larger than 10 MB (`file_too_large`) or the body than the edge takes.",
        415: "The file is not a PDF, JPEG or PNG by its bytes (`unsupported_file_type`).",
    },
    ("delete", "/patients/{patient_id}/shares/{share_id}"): {
        409: "The share has already ended.",
    },
    ("post", "/patients/{patient_id}/appointments"): {
        409: "`slot_taken`: the slot was taken meanwhile; `slot_in_past`: it has started; "
        "`one_appointment_a_day`: the patient already has an appointment with this specialist "
        "that day.",
    },
    ("delete", "/patients/{patient_id}/appointments/{appointment_id}"): {
        409: "`appointment_cancelled`: already cancelled; `appointment_started`: it has started.",
    },
    ("get", "/moderation/reviews"): {403: "Only operators moderate reviews."},
    ("post", "/moderation/reviews/{review_id}/approve"): {
        403: "Only operators moderate reviews.",
        409: "The review is not waiting for moderation.",
    },
    ("post", "/moderation/reviews/{review_id}/reject"): {
        403: "Only operators moderate reviews.",
        409: "The review is not waiting for moderation.",
    },
    ("get", "/documents/{document_id}/file"): {
        409: "The document is still being prepared, or preparing it failed.",
        410: "The document has expired or was revoked.",
    },
    ("post", "/documents/{document_id}/email"): {
        409: "The document is not ready, or the account has no confirmed e-mail.",
    },
    ("post", "/support/requests"): {
        429: "Too many requests of this account, or of this address without a login, within "
        "the hour (`Retry-After` says when to retry).",
    },
    ("post", "/operator/support-requests/{request_id}/answer"): {
        409: "The request is already answered.",
    },
}
"""Answers only some operations give, from the services behind them (their `ServiceError`s)."""

OPTIONAL_AUTH = frozenset({("post", "/support/requests"), ("get", "/support/contacts")})
"""Operations open to everyone that act on the caller's account when a token is given (an
invalid one answers 401)."""

Target = tuple[str, str, dict[str, str]]
LINKS: dict[tuple[str, str], dict[str, Target]] = {
    ("get", "/patients"): {
        "ListServices": (
            "get",
            "/patients/{patient_id}/services",
            {"patient_id": "$response.body#/patients/0/patient/account_id"},
        ),
    },
    ("get", "/patients/{patient_id}/services"): {
        "GetService": (
            "get",
            "/patients/{patient_id}/services/{record_id}",
            {"patient_id": "$request.path.patient_id", "record_id": "$response.body#/items/0/id"},
        ),
        "GetOrganization": (
            "get",
            "/organizations/{organization_id}",
            {"organization_id": "$response.body#/items/0/organization_id"},
        ),
        "GetSpecialist": (
            "get",
            "/specialists/{specialist_id}",
            {"specialist_id": "$response.body#/items/0/specialist_id"},
        ),
    },
    ("post", "/patients/{patient_id}/services/{record_id}/corrections"): {
        "GetCorrection": (
            "get",
            "/patients/{patient_id}/corrections/{correction_id}",
            {"patient_id": "$request.path.patient_id", "correction_id": "$response.body#/id"},
        ),
        "WithdrawCorrection": (
            "post",
            "/patients/{patient_id}/corrections/{correction_id}/withdraw",
            {"patient_id": "$request.path.patient_id", "correction_id": "$response.body#/id"},
        ),
    },
    ("get", "/patients/{patient_id}/lab-results"): {
        "GetLabResult": (
            "get",
            "/patients/{patient_id}/lab-results/{result_id}",
            {"patient_id": "$request.path.patient_id", "result_id": "$response.body#/items/0/id"},
        ),
    },
    ("delete", "/patients/{patient_id}/lab-results/{result_id}"): {
        "ConfirmLabResultChange": (
            "post",
            "/patients/{patient_id}/lab-results/{result_id}/confirmations/{confirmation_id}",
            {
                "patient_id": "$request.path.patient_id",
                "result_id": "$request.path.result_id",
                "confirmation_id": "$response.body#/confirmation_id",
            },
        ),
    },
    ("get", "/organizations"): {
        "GetOrganization": (
            "get",
            "/organizations/{organization_id}",
            {"organization_id": "$response.body#/items/0/id"},
        ),
    },
    ("get", "/catalog/services"): {
        "GetTariff": (
            "get",
            "/catalog/services/{code}/tariff",
            {"code": "$response.body#/items/0/code"},
        ),
    },
    ("get", "/me/notifications"): {
        "MarkRead": (
            "post",
            "/me/notifications/{notification_id}/read",
            {"notification_id": "$response.body#/notifications/0/notification_id"},
        ),
    },
    ("get", "/delegations"): {
        "GetDelegation": (
            "get",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegations/0/delegation_id"},
        ),
    },
    ("post", "/delegations"): {
        "GetDelegation": (
            "get",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
        "RevokeDelegation": (
            "delete",
            "/delegations/{delegation_id}",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
        "VerifyDelegation": (
            "post",
            "/delegations/{delegation_id}/verify",
            {"delegation_id": "$response.body#/delegation_id"},
        ),
    },
    ("get", "/insurer-consents"): {
        "GetInsurerConsent": (
            "get",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consents/0/consent_id"},
        ),
    },
    ("post", "/insurer-consents"): {
        "GetInsurerConsent": (
            "get",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "RevokeInsurerConsent": (
            "delete",
            "/insurer-consents/{consent_id}",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "RequestInsurerAccess": (
            "post",
            "/insurer-consents/{consent_id}/request",
            {"consent_id": "$response.body#/consent_id"},
        ),
        "ConfirmInsurerRequest": (
            "post",
            "/insurer-consents/{consent_id}/confirm",
            {"consent_id": "$response.body#/consent_id"},
        ),
    },
    ("get", "/inspector-orders"): {
        "GetInspectorOrder": (
            "get",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/orders/0/order_id"},
        ),
    },
    ("post", "/inspector-orders"): {
        "GetInspectorOrder": (
            "get",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/order_id"},
        ),
        "RevokeInspectorOrder": (
            "delete",
            "/inspector-orders/{order_id}",
            {"order_id": "$response.body#/order_id"},
        ),
    },
    ("post", "/patients/{patient_id}/documents"): {
        "GetDocument": (
            "get",
            "/documents/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
        "GetDocumentFile": (
            "get",
            "/documents/{document_id}/file",
            {"document_id": "$response.body#/document_id"},
        ),
        "EmailDocument": (
            "post",
            "/documents/{document_id}/email",
            {"document_id": "$response.body#/document_id"},
        ),
        "RevokeDocument": (
            "post",
            "/documents/{document_id}/revoke",
            {"document_id": "$response.body#/document_id"},
        ),
        "VerifyDocument": (
            "get",
            "/verify/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
        "VerifyDocumentFile": (
            "post",
            "/verify/{document_id}",
            {"document_id": "$response.body#/document_id"},
        ),
    },
}
"""Where the ids an operation answers can be used: OpenAPI links, e.g. for clients and tests."""
