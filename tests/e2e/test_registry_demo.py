"""The registry's demo data set as `make run` serves it, read through the edge."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from gosmed.registry import demo
from gosmed.runtime.devstack import DevStack


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"GOSMED_DEMO_DATA": "1"}


@pytest.fixture
async def api(stack: DevStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{stack.base_url}/api/v1", timeout=10) as client:
        yield client


async def every_item(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Follow the cursors to the last page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await api.get(path, params=query)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        if (cursor := response.json()["next_cursor"]) is None:
            return items


async def test_demo_organizations_and_catalogue_are_complete(api: httpx.AsyncClient) -> None:
    organizations = await every_item(api, "/organizations")
    assert len(organizations) == len(demo.organizations()) >= 50
    assert len({o["address"]["region_code"] for o in organizations}) == 8
    services = await every_item(api, "/catalog/services")
    assert len(services) == len(demo.nomenclature()) >= 300
    assert len({s["category"] for s in services}) == 8
    therapist = await every_item(api, "/catalog/services", q="терапевт")
    assert "B01.047.001" in {s["code"] for s in therapist}


async def test_demo_specialist_and_tariff_are_served(api: httpx.AsyncClient) -> None:
    specialist = demo.specialists()[42]
    response = await api.get(f"/specialists/{specialist.id}")
    assert response.status_code == 200
    assert response.json()["full_name"] == specialist.full_name
    assert response.json()["reviews_count"] == specialist.reviews_count

    organization = next(o for o in demo.organizations() if o.id == specialist.organization_id)
    expected = next(
        t
        for t in demo.tariffs()
        if t.service_code == "B01.047.001"
        and t.region_code == organization.address.region_code
        and t.effective_from == date(2026, 1, 1)
    )
    tariff = await api.get(
        "/catalog/services/B01.047.001/tariff",
        params={"date": "2026-04-01", "organization_id": str(organization.id)},
    )
    assert tariff.status_code == 200
    assert tariff.json()["price"] == expected.price
    assert tariff.json()["document"]["url"] == expected.document.url
