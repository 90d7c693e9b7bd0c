"""`make run`'s demo data: the clinic simulator publishes each demo patient's history over the
broker, as clinics do, and the patient sees it through the edge."""

import httpx
import pytest

from gosmed.contracts import demo
from gosmed.runtime.devstack import DevStack
from tests.e2e.identity_support import DEMO_ENV, login


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return DEMO_ENV


def test_demo_loader_gives_each_patient_a_history_of_100_services(
    stack: DevStack, edge: httpx.Client
) -> None:
    stack.load_demo_data()

    headers = login(edge, demo.CHILD_OVER_15)
    items = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = edge.get("/api/v1/patients/me/services", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    assert len(items) >= 100
    assert len({i["category"] for i in items}) == 8
    assert len({i["organization_id"] for i in items}) >= 3
    assert {i["coverage"]["kind"] for i in items} == {
        "oms",
        "voluntary_insurance",
        "paid_by_patient",
    }
    assert {i["cost"]["kind"] for i in items} == {"exact", "free", "negotiable"}
    assert all(i["organization_name"] for i in items)
    days = sorted(i["rendered_on"] for i in items)
    assert days[-1][:4] > days[0][:4]
    first = edge.get("/api/v1/patients/me/services", headers=headers).json()
    assert "consent_missing" not in {n["code"] for n in first["notices"]}

    stack.load_demo_data()  # a second run changes nothing
    again = edge.get("/api/v1/patients/me/services", params={"limit": 100}, headers=headers)
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in items[:100]]
