"""Messages every service answers regardless of its domain."""

from enum import StrEnum

from pydantic import Field

from gosmed.contracts.base import Contract, Message
from gosmed.contracts.rpc import Rpc
from gosmed.contracts.topology import Service


class DependencyState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


class DependencyStatus(Contract):
    state: DependencyState
    detail: str = Field(default="", description="Short, non-sensitive description.")


class Ping(Message):
    """Ask a service whether it is alive and what its dependencies look like."""


class PingReply(Contract):
    service: str = Field(description="Service name, e.g. `records`.")
    version: str
    dependencies: dict[str, DependencyStatus] = Field(
        description="State of each dependency: `broker`, `store`, ..."
    )

    @property
    def healthy(self) -> bool:
        return all(d.state != DependencyState.DOWN for d in self.dependencies.values())


def ping(service: Service) -> Rpc[Ping, PingReply]:
    """The RPC every service answers `Ping` on."""
    return Rpc(service, "ping", Ping, PingReply, "Liveness and the state of dependencies.")
