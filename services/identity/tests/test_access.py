"""`authorize` over the demo data: each allowed decision names its basis and that basis's
document; a claimed basis must be the one in force."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from gosmed.contracts import demo
from gosmed.contracts.access import AccessContext, LegalBasis
from gosmed.contracts.identity.access import Action, Authorize
from gosmed.identity.demo import account_id
from gosmed.identity.domain import ACTION_NOT_COVERED, NO_BASIS, NOT_CONFIRMED
from gosmed.identity.service import AccessService

from .support import Clock, authorize


@pytest.fixture
def clock() -> Clock:
    """The demo's day: the child is 10, the teenager 16."""
    return Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("actor", "patient", "basis", "document_id", "label", "restricted"),
    [
        (
            demo.PATIENT,
            demo.PATIENT,
            LegalBasis.OWN_ACCOUNT,
            None,
            "собственная учётная запись",
            True,
        ),
        (
            demo.PARENT,
            demo.CHILD_UNDER_15,
            LegalBasis.PARENT_OF_MINOR,
            None,
            "родитель ребёнка до 15 лет",
            False,
        ),
        (
            demo.REPRESENTATIVE,
            demo.PATIENT,
            LegalBasis.POWER_OF_ATTORNEY,
            "demo-poa-active",
            "нотариальная доверенность № 77 АА 1234567",
            False,
        ),
        (
            demo.INSURER,
            demo.PATIENT,
            LegalBasis.INSURER_CONSENT,
            "demo-insurer-consent",
            "согласие пациента по договору № ДМС-2026/0147",
            False,
        ),
        (
            demo.INSPECTOR,
            demo.PATIENT,
            LegalBasis.INSPECTOR_ORDER,
            "П-42/2026",
            "приказ № П-42/2026 от 18.11.2026",
            False,
        ),
    ],
    ids=["own", "parent", "representative", "insurer", "inspector"],
)
async def test_an_allowed_decision_names_the_basis_and_its_document(
    access: AccessService,
    actor: demo.DemoPerson,
    patient: demo.DemoPerson,
    basis: LegalBasis,
    document_id: str | None,
    label: str,
    restricted: bool,
) -> None:
    decision = await authorize(access, actor, patient)
    assert decision.allowed
    assert decision.actor_id == account_id(actor)
    assert decision.patient is not None
    assert (decision.patient.account_id, decision.patient.snils) == (
        account_id(patient),
        patient.snils,
    )
    assert decision.basis == basis
    assert decision.basis_document_id == document_id
    assert decision.basis_label == label
    assert decision.sees_restricted_categories is restricted
    claimed = await authorize(access, actor, patient, basis=basis, document_id=document_id)
    assert claimed.allowed


@pytest.mark.parametrize(
    ("actor", "patient", "label"),
    [
        (demo.PATIENT, demo.PATIENT, "Иванова А. С."),
        (demo.REPRESENTATIVE, demo.PATIENT, "Смирнова О. П."),
        (
            demo.INSURER,
            demo.PATIENT,
            "Кузнецов А. В., представитель страховой компании, АО «Страховая компания»",
        ),
        (demo.INSPECTOR, demo.PATIENT, "Соколова Е. Д., проверяющий, Росздравнадзор"),
    ],
    ids=["own", "representative", "insurer", "inspector"],
)
async def test_an_allowed_decision_names_the_actor_as_a_person_would(
    access: AccessService, actor: demo.DemoPerson, patient: demo.DemoPerson, label: str
) -> None:
    decision = await authorize(access, actor, patient)
    assert decision.actor is not None
    assert decision.actor.label == label
    assert decision.actor.organization == actor.organization


async def test_a_denied_decision_names_nobody(access: AccessService) -> None:
    decision = await authorize(access, demo.CHILD_OVER_15, demo.PATIENT)
    assert not decision.allowed
    assert decision.actor is None


async def test_no_patient_means_the_actor_themself(access: AccessService) -> None:
    decision = await authorize(access, demo.PARENT, None)
    assert decision.basis == LegalBasis.OWN_ACCOUNT
    assert decision.patient is not None
    assert decision.patient.account_id == account_id(demo.PARENT)


@pytest.mark.parametrize(
    ("basis", "document_id"),
    [
        (LegalBasis.POWER_OF_ATTORNEY, "demo-poa-revoked"),
        (LegalBasis.POWER_OF_ATTORNEY, "demo-poa-expired"),
        (LegalBasis.POWER_OF_ATTORNEY, "demo-insurer-consent"),
        (LegalBasis.INSURER_CONSENT, "demo-poa-active"),
        (LegalBasis.OWN_ACCOUNT, None),
    ],
)
async def test_a_claimed_basis_must_be_one_in_force(
    access: AccessService, basis: LegalBasis, document_id: str | None
) -> None:
    decision = await authorize(
        access, demo.REPRESENTATIVE, demo.PATIENT, basis=basis, document_id=document_id
    )
    assert (decision.allowed, decision.patient, decision.reason) == (False, None, NO_BASIS)


@pytest.mark.parametrize("action", [Action.BOOK_APPOINTMENTS, Action.FILE_CORRECTIONS])
async def test_an_expired_or_revoked_power_of_attorney_covers_nothing(
    access: AccessService, action: Action
) -> None:
    """The demo's expired one covered booking, its revoked one corrections."""
    decision = await authorize(access, demo.REPRESENTATIVE, demo.PATIENT, action)
    assert decision.reason == ACTION_NOT_COVERED


async def test_an_unconfirmed_account_is_refused_even_its_own_data(access: AccessService) -> None:
    decision = await authorize(access, demo.UNCONFIRMED, demo.UNCONFIRMED)
    assert (decision.allowed, decision.patient, decision.reason) == (False, None, NOT_CONFIRMED)


async def test_an_unknown_actor_or_patient_has_no_basis(access: AccessService) -> None:
    stranger, patient = uuid4(), account_id(demo.PATIENT)
    for context in (
        AccessContext(actor_id=stranger, patient_id=patient),
        AccessContext(actor_id=patient, patient_id=stranger),
    ):
        decision = await access.authorize(Authorize(context=context, action=Action.READ_SERVICES))
        assert (decision.allowed, decision.actor_id, decision.reason) == (
            False,
            context.actor_id,
            NO_BASIS,
        )
