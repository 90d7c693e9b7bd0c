"""The fault suite, `make chaos`: the whole system under load while parts of it fail.

Every test in this directory is marked `chaos`, and plain `pytest` (so `make test`) leaves
that mark out (`-m "not chaos"` in pyproject.toml). Each module starts its own stack through
the end-to-end harness (`stack` in tests/conftest.py):

- test_kill_services.py: `kill -9` of each process in turn under load; the launcher restarts it.
- test_broker_restart.py: RabbitMQ stopped and started while a clinic publishes 10,000
  services; on a broker node of the test's own (broker_node.py), so nothing else is touched.
"""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.chaos)
