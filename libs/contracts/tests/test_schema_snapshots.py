"""Every contract's JSON schema is pinned; a breaking change fails here.

Breaking: a field removed, a field's schema changed, a new required field. Adding an optional
field is compatible, but the snapshot must still be refreshed so the next change is judged
against it: `GOSMED_UPDATE_SNAPSHOTS=1 uv run pytest libs/contracts`.
"""

import importlib
import inspect
import json
import os
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import gosmed.contracts
from gosmed.contracts.base import Contract

SNAPSHOTS = Path(__file__).parent / "schemas"
UPDATE = os.environ.get("GOSMED_UPDATE_SNAPSHOTS") == "1"


def all_contracts() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module_info in pkgutil.walk_packages(gosmed.contracts.__path__, "gosmed.contracts."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Contract) and cls.__module__ == module.__name__:
                found[f"{cls.__module__.removeprefix('gosmed.contracts.')}.{cls.__name__}"] = cls
    return found


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            problems.append(f"field `{name}` removed")
        elif new_props[name] != schema:
            problems.append(f"field `{name}` changed")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field `{name}` is newly required")
    for name, definition in old.get("$defs", {}).items():
        if name in new.get("$defs", {}):
            problems += [f"{name}: {p}" for p in breaking_changes(definition, new["$defs"][name])]
    if old.get("enum") and set(old["enum"]) - set(new.get("enum", [])):
        problems.append("enum values removed")
    return problems


CONTRACTS = all_contracts()


def test_contracts_are_found() -> None:
    assert "system.Ping" in CONTRACTS
    assert "access.AccessContext" in CONTRACTS


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schema_matches_snapshot(name: str) -> None:
    schema = CONTRACTS[name].model_json_schema()
    path = SNAPSHOTS / f"{name}.json"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert path.exists(), f"no snapshot for new contract {name}: run with GOSMED_UPDATE_SNAPSHOTS=1"
    pinned = json.loads(path.read_text())
    problems = breaking_changes(pinned, schema)
    assert not problems, (
        f"breaking change in {name}: {problems}. Add a new class and a .v2 routing key instead."
    )
    assert pinned == schema, f"{name} changed compatibly: refresh with GOSMED_UPDATE_SNAPSHOTS=1"


def test_detects_each_kind_of_breaking_change() -> None:
    old: dict[str, Any] = {
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    assert breaking_changes(old, old) == []
    assert breaking_changes(old, {**old, "properties": {"a": {"type": "string"}}}) == [
        "field `b` removed"
    ]
    changed = {
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a"],
    }
    assert breaking_changes(old, changed) == ["field `a` changed"]
    assert breaking_changes(old, {**old, "required": ["a", "b"]}) == ["field `b` is newly required"]
    added = {"properties": {**old["properties"], "c": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, added) == []
