"""An insurer reads a patient's data only with a contract, the patient's consent and a request
the patient confirmed; each ends on the hand-moved clock, and a revocation acts at once."""

from datetime import date, timedelta

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import LegalBasis
from gosmed.contracts.errors import ErrorCode
from gosmed.contracts.identity.access import Action
from gosmed.contracts.identity.consents import (
    CreateInsurerConsent,
    InsurerConsentRequest,
    InsurerConsentView,
    ListInsurerConsents,
    RequestStatus,
)
from gosmed.identity.consents import ConsentService
from gosmed.identity.demo import account_id
from gosmed.identity.domain import ACTION_NOT_COVERED, NO_BASIS
from gosmed.identity.service import AccessService

from .support import REQUEST_DAYS, Clock, authorize, refused

CONTRACT = "ДМС-2026/0777"


def consent_of(
    patient: demo.DemoPerson,
    today: date,
    *,
    insurer_snils: str = demo.INSURER.snils,
    contract_days: int = 60,
    consent_days: int = 60,
    scopes: frozenset[Action] = frozenset({Action.READ_SERVICES}),
) -> CreateInsurerConsent:
    return CreateInsurerConsent(
        patient_id=account_id(patient),
        insurer_snils=insurer_snils,
        contract_number=CONTRACT,
        contract_valid_until=today + timedelta(days=contract_days),
        consent_valid_until=today + timedelta(days=consent_days),
        scopes=scopes,
    )


def by(person: demo.DemoPerson, consent_id: str) -> InsurerConsentRequest:
    return InsurerConsentRequest(account_id=account_id(person), consent_id=consent_id)


async def confirmed(
    consents: ConsentService, patient: demo.DemoPerson, consent_id: str
) -> InsurerConsentView:
    """The insurer asks, the patient confirms."""
    await consents.request_access(by(demo.INSURER, consent_id))
    return await consents.confirm_request(by(patient, consent_id))


async def test_an_insurer_reads_after_the_patient_confirms_its_request(
    consents: ConsentService, access: AccessService, clock: Clock
) -> None:
    given = await consents.create_consent(consent_of(demo.PARENT, clock().date()))
    assert (given.request_status, given.my_role) == (RequestStatus.NONE, "patient")
    assert (await authorize(access, demo.INSURER, demo.PARENT)).reason == NO_BASIS
    premature = consents.confirm_request(by(demo.PARENT, given.consent_id))
    assert await refused(premature, ErrorCode.CONFLICT) == "Нет запроса, ожидающего подтверждения."
    patient_asks = consents.request_access(by(demo.PARENT, given.consent_id))
    await refused(patient_asks, ErrorCode.FORBIDDEN)

    asked = await consents.request_access(by(demo.INSURER, given.consent_id))
    assert (asked.request_status, asked.my_role) == (RequestStatus.REQUESTED, "insurer")
    assert (await authorize(access, demo.INSURER, demo.PARENT)).reason == NO_BASIS
    insurer_confirms = consents.confirm_request(by(demo.INSURER, given.consent_id))
    await refused(insurer_confirms, ErrorCode.FORBIDDEN)

    done = await consents.confirm_request(by(demo.PARENT, given.consent_id))
    assert done.request_status == RequestStatus.CONFIRMED
    assert done.request_confirmed_until == clock() + timedelta(days=REQUEST_DAYS)
    decision = await authorize(access, demo.INSURER, demo.PARENT)
    assert decision.allowed
    assert decision.basis == LegalBasis.INSURER_CONSENT
    assert decision.basis_document_id == given.consent_id
    assert decision.basis_label == f"согласие пациента по договору № {CONTRACT}"
    assert not decision.sees_restricted_categories
    outside = await authorize(access, demo.INSURER, demo.PARENT, Action.DOWNLOAD_DOCUMENTS)
    assert outside.reason == ACTION_NOT_COVERED


async def test_a_confirmation_lasts_its_days_then_the_insurer_asks_again(
    consents: ConsentService, access: AccessService, clock: Clock
) -> None:
    given = await consents.create_consent(consent_of(demo.PARENT, clock().date()))
    await confirmed(consents, demo.PARENT, given.consent_id)
    clock.advance(days=REQUEST_DAYS)
    assert (await authorize(access, demo.INSURER, demo.PARENT)).allowed
    clock.advance(1)
    assert (await authorize(access, demo.INSURER, demo.PARENT)).reason == NO_BASIS
    lapsed = await consents.get_consent(by(demo.PARENT, given.consent_id))
    assert lapsed.request_status == RequestStatus.NONE

    await confirmed(consents, demo.PARENT, given.consent_id)
    assert (await authorize(access, demo.INSURER, demo.PARENT)).allowed


async def test_a_repeated_request_gives_one_consent(consents: ConsentService, clock: Clock) -> None:
    """A redelivered request (same message id) stores nothing new nor undoes the confirmation."""
    request = consent_of(demo.PARENT, clock().date())
    given = await consents.create_consent(request)
    await confirmed(consents, demo.PARENT, given.consent_id)
    again = await consents.create_consent(request)
    assert again.consent_id == given.consent_id
    assert again.request_status == RequestStatus.CONFIRMED
    listed = await consents.list_consents(ListInsurerConsents(account_id=account_id(demo.PARENT)))
    assert [c.consent_id for c in listed.consents] == [given.consent_id]


@pytest.mark.parametrize(
    ("contract_days", "consent_days"), [(2, 5), (5, 2)], ids=["contract-first", "consent-first"]
)
async def test_access_ends_with_the_contract_or_the_consent_whichever_ends_first(
    consents: ConsentService,
    access: AccessService,
    clock: Clock,
    contract_days: int,
    consent_days: int,
) -> None:
    request = consent_of(
        demo.PARENT, clock().date(), contract_days=contract_days, consent_days=consent_days
    )
    given = await consents.create_consent(request)
    await confirmed(consents, demo.PARENT, given.consent_id)
    allowed = []
    for _ in range(4):
        allowed.append((await authorize(access, demo.INSURER, demo.PARENT)).allowed)
        clock.advance(days=1)
    assert allowed == [True, True, True, False]


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        (
            {"scopes": frozenset({Action.READ_SERVICES, Action.WRITE_REVIEWS})},
            ErrorCode.VALIDATION_FAILED,
            "Страховой компании доступно только чтение.",
        ),
        (
            {"insurer_snils": demo.REPRESENTATIVE.snils},
            ErrorCode.NOT_FOUND,
            "Представитель страховой компании с таким СНИЛС не найден.",
        ),
        (
            {"contract_days": -1},
            ErrorCode.VALIDATION_FAILED,
            "Срок договора или согласия истёк.",
        ),
        (
            {"consent_days": -1},
            ErrorCode.VALIDATION_FAILED,
            "Срок договора или согласия истёк.",
        ),
    ],
    ids=["write-scope", "not-an-insurer", "contract-expired", "consent-expired"],
)
async def test_a_consent_is_read_only_for_an_insurer_in_force(
    consents: ConsentService,
    clock: Clock,
    changes: dict[str, object],
    code: ErrorCode,
    message: str,
) -> None:
    request = consent_of(demo.PARENT, clock().date(), **changes)  # type: ignore[arg-type]
    assert await refused(consents.create_consent(request), code) == message
    listed = await consents.list_consents(ListInsurerConsents(account_id=account_id(demo.PARENT)))
    assert listed.consents == ()


async def test_only_the_patient_revokes_and_the_next_authorize_is_refused(
    consents: ConsentService, access: AccessService
) -> None:
    before = await authorize(access, demo.INSURER, demo.PATIENT)
    assert before.basis_document_id == "demo-insurer-consent"
    revoke_by_insurer = consents.revoke_consent(by(demo.INSURER, "demo-insurer-consent"))
    assert await refused(revoke_by_insurer, ErrorCode.FORBIDDEN) == (
        "Отозвать согласие может только пациент."
    )
    assert (await authorize(access, demo.INSURER, demo.PATIENT)).allowed

    revoked = await consents.revoke_consent(by(demo.PATIENT, "demo-insurer-consent"))
    assert revoked.revoked
    after = await authorize(access, demo.INSURER, demo.PATIENT)
    assert (after.allowed, after.patient, after.reason) == (False, None, NO_BASIS)
    again = consents.revoke_consent(by(demo.PATIENT, "demo-insurer-consent"))
    assert await refused(again, ErrorCode.CONFLICT) == "Согласие уже отозвано."
    asked = consents.request_access(by(demo.INSURER, "demo-insurer-consent"))
    assert await refused(asked, ErrorCode.CONFLICT) == "Согласие отозвано."


async def test_a_consent_is_not_disclosed_to_anyone_but_its_parties(
    consents: ConsentService,
) -> None:
    for party in (demo.PATIENT, demo.INSURER):
        assert await consents.get_consent(by(party, "demo-insurer-consent"))
    actions = (
        consents.get_consent,
        consents.revoke_consent,
        consents.request_access,
        consents.confirm_request,
    )
    for stranger in (demo.REPRESENTATIVE, demo.OPERATOR):
        for consent_id in ("demo-insurer-consent", "no-such-consent"):
            for action in actions:
                message = await refused(action(by(stranger, consent_id)), ErrorCode.NOT_FOUND)
                assert message == "Согласие не найдено."
        listed = await consents.list_consents(ListInsurerConsents(account_id=account_id(stranger)))
        assert listed.consents == ()
