"""The demo data set is large enough, valid, deterministic and internally consistent."""

from collections import Counter

from stdnum.ru import inn, ogrn

from gosmed.contracts.registry.catalog import ServiceCategory
from gosmed.contracts.registry.organizations import OrganizationCard
from gosmed.contracts.registry.specialists import SpecialistCard
from gosmed.registry import demo


def test_sizes_and_coverage() -> None:
    organizations = demo.organizations()
    assert len(organizations) >= 50
    assert len({o.address.region_code for o in organizations}) >= 5
    assert len(demo.specialists()) == 500
    entries = demo.nomenclature()
    assert len(entries) >= 300
    assert set(Counter(e.category for e in entries)) == set(ServiceCategory)
    assert demo.tariffs()


def test_numbers_pass_checksums_and_revalidate() -> None:
    for card in demo.organizations():
        assert inn.is_valid(card.inn)
        assert ogrn.is_valid(card.ogrn)
        assert card.kpp is not None
        assert card.kpp.startswith(card.inn[:4])
        assert OrganizationCard.model_validate(card.model_dump(mode="json")) == card
    for specialist in demo.specialists()[:50]:
        assert SpecialistCard.model_validate(specialist.model_dump(mode="json")) == specialist


def test_ids_are_unique_and_derived_from_ogrn() -> None:
    organizations = demo.organizations()
    assert len({o.id for o in organizations}) == len(organizations)
    assert len({o.ogrn for o in organizations}) == len(organizations)
    assert all(o.id == demo.organization_id(o.ogrn) for o in organizations)
    specialists = demo.specialists()
    assert len({s.id for s in specialists}) == len(specialists)
    assert len({e.code for e in demo.nomenclature()}) == len(demo.nomenclature())


def test_references_resolve() -> None:
    organizations = {o.id: o for o in demo.organizations()}
    for specialist in demo.specialists():
        organization = organizations[specialist.organization_id]
        assert specialist.department_id in {d.id for d in organization.departments}
        assert specialist.specialty in organization.specializations
    codes = {e.code for e in demo.nomenclature()}
    for tariff in demo.tariffs():
        assert tariff.service_code in codes
        assert tariff.organization_id is None or tariff.organization_id in organizations


def test_therapist_first_visit_is_in_the_catalogue() -> None:
    names = {e.code: e.name for e in demo.nomenclature()}
    assert names["B01.047.001"] == "Прием (осмотр, консультация) врача-терапевта первичный"
    assert names["A09.05.023"] == "Исследование уровня глюкозы в крови"
