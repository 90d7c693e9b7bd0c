"""Exchange, queue and routing-key names: the one place that says where a message goes.

- RPC queries go through the default exchange to one durable queue per method
  (`<service>.rpc.<method>`); the reply comes back on RabbitMQ's direct reply-to.
- Commands from clinics and operators go to durable queues (`<service>.<command>`).
- Events go to the topic exchange `gosmed.events` with the routing key `<service>.<event>.v<N>`;
  every consuming service binds its own durable queue (`<consumer>.on.<service>.<event>`).
- Events that match no binding go to the queue `gosmed.unrouted` (bounded, oldest dropped).
- Every queue has a twin `<queue>.dead-letter`, bound to `gosmed.dead-letter` by the queue's name.
- Clinics come in through one door: they publish to the direct exchange `gosmed.clinic-intake`
  (routing key = the command queue it is bound to, e.g. `records.rendered-services`) and read
  only their own queues `clinic.<organization>.*` (replies, sync requests).
"""

from enum import StrEnum
from uuid import UUID

EVENTS_EXCHANGE = "gosmed.events"
# Events no queue is bound for are kept here (the events exchange's alternate exchange), so a
# publisher never fails because nobody listens yet, and a mistyped routing key is visible.
UNROUTED_EXCHANGE = "gosmed.unrouted"
UNROUTED_QUEUE = "gosmed.unrouted"
UNROUTED_MAX_LENGTH = 100_000
DEAD_LETTER_EXCHANGE = "gosmed.dead-letter"
DEAD_LETTER_SUFFIX = ".dead-letter"
CLINIC_INTAKE_EXCHANGE = "gosmed.clinic-intake"
CLINIC_REPLIES = "replies"
CLINIC_SYNC_REQUESTS = "sync-requests"
CLINIC_APPOINTMENTS = "appointments"
CLINIC_CORRECTIONS = "corrections"

# Message headers set by gosmed on top of AMQP's own properties.
HEADER_ERROR_CODE = "x-gosmed-error-code"
HEADER_ERROR_REASON = "x-gosmed-error-reason"
HEADER_ORIGINAL_QUEUE = "x-gosmed-original-queue"
HEADER_REPLY_STATUS = "x-gosmed-reply-status"
# On an RPC's dead letter, which keeps no body: the size in bytes of the request it replaces.
HEADER_BODY_OMITTED = "x-gosmed-body-omitted"
REPLY_STATUS_ERROR = "error"


class Service(StrEnum):
    IDENTITY = "identity"
    RECORDS = "records"
    REGISTRY = "registry"
    DOCUMENTS = "documents"
    SCHEDULING = "scheduling"
    FEEDBACK = "feedback"


def rpc_queue(service: Service, method: str) -> str:
    return f"{service.value}.rpc.{method}"


def is_rpc_queue(queue: str) -> bool:
    """Whether `queue` is an RPC queue (`<service>.rpc.<method>`)."""
    service, _, rest = queue.partition(".")
    return rest.startswith("rpc.") and service in Service.__members__.values()


def command_queue(service: Service, command: str) -> str:
    return f"{service.value}.{command}"


def event_key(service: Service, event: str, version: int = 1) -> str:
    return f"{service.value}.{event}.v{version}"


def event_queue(consumer: Service, routing_key: str) -> str:
    return f"{consumer.value}.on.{routing_key}"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}{DEAD_LETTER_SUFFIX}"


def clinic_queue_prefix(organization_id: UUID | str) -> str:
    """Every queue of one clinic starts with this; the clinic's broker user owns them."""
    return f"clinic.{organization_id}."


def clinic_queue(organization_id: UUID | str, name: str) -> str:
    return f"{clinic_queue_prefix(organization_id)}{name}"


def clinic_queues(organization_id: UUID) -> tuple[str, ...]:
    """The queues created with a clinic's user: its replies, its sync requests, the bookings
    and cancellations of its appointments and the correction requests of its patients."""
    names = (CLINIC_REPLIES, CLINIC_SYNC_REQUESTS, CLINIC_APPOINTMENTS, CLINIC_CORRECTIONS)
    return tuple(clinic_queue(organization_id, n) for n in names)


def clinic_of_user_name(user_id: str | None) -> UUID | None:
    """The organization a clinic's broker user (`<vhost prefix>.clinic.<organization>`) stands
    for, whatever the prefix; None for any other name."""
    head, found, tail = (user_id or "").rpartition(".clinic.")
    if not found or not head:
        return None
    try:
        organization_id = UUID(tail)
    except ValueError:
        return None
    return organization_id if str(organization_id) == tail else None


def clinic_may_use(user_id: str | None, queue: str) -> bool:
    """Whether `queue` is one of the queues of the clinic whose broker user is `user_id`."""
    organization_id = clinic_of_user_name(user_id)
    return organization_id is not None and queue.startswith(clinic_queue_prefix(organization_id))
