"""One declaration per RPC: which service answers it, on which method, with which types.

A service serves an `Rpc` with `ServiceRuntime.serve`; a caller calls it with
`RpcClient.call(rpc, request)` and gets the reply type back. Nothing else names an RPC queue.
"""

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from gosmed.contracts.topology import Service, rpc_queue

RequestT = TypeVar("RequestT", bound=BaseModel)
ReplyT = TypeVar("ReplyT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Rpc(Generic[RequestT, ReplyT]):
    """A request/reply method of a service: `<service>.rpc.<method>` takes `request` and
    answers `reply` (or an `ErrorReply`)."""

    service: Service
    method: str
    request: type[RequestT]
    reply: type[ReplyT]
    summary: str = ""

    @property
    def queue(self) -> str:
        return rpc_queue(self.service, self.method)
