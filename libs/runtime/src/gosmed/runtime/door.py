"""The clinics' door: a message is taken only from the clinic that sent it, and answered only
at that clinic's own queues.

RabbitMQ refuses a message whose AMQP `user_id` is not the user of the connection that
publishes it, so `user_id` says which broker user sent a clinic's message; a clinic's user is
`<vhost prefix>.clinic.<organization id>` (`gosmed.runtime.broker_access`), created by
`python -m gosmed.runtime.broker_access clinic add <organization id>`. A service's handler of
a queue consumed with `from_clinics=True` asks `sending_clinic` who sent the message; every
refusal is a `RefusedError` (dead-lettered with its reason, answered at the clinic's own
`reply_to` if it gave one).
"""

from collections.abc import Mapping
from uuid import UUID

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.broker_access import clinic_of_user


def sending_clinic(
    vhost: str,
    user_id: str | None,
    *,
    claimed: UUID | None = None,
    queues: Mapping[str, str | None] | None = None,
) -> UUID:
    """The organization of the clinic that sent a message, by its AMQP `user_id`.

    `claimed`: the organization the message says it comes from (must be the sender's own);
    `queues`: the queues the message names for answers (`reply_to`, ...) by field, each of which
    must be one of the sender's own `clinic.<organization>.` queues."""
    if not user_id:
        raise RefusedError(
            ErrorCode.CLINIC_UNIDENTIFIED,
            "Сообщение без свойства user_id: укажите в нём пользователя брокера вашей клиники.",
        )
    organization_id = clinic_of_user(vhost, user_id)
    if organization_id is None:
        raise RefusedError(
            ErrorCode.CLINIC_UNKNOWN,
            f"Пользователь брокера {user_id} не является пользователем клиники.",
        )
    if claimed is not None and organization_id != claimed:
        raise RefusedError(
            ErrorCode.ORGANIZATION_MISMATCH,
            f"Клиника {organization_id} прислала сообщение от имени организации {claimed}.",
        )
    own = topology.clinic_queue_prefix(organization_id)
    for field, queue in (queues or {}).items():
        if queue and not queue.startswith(own):
            raise RefusedError(
                ErrorCode.CLINIC_QUEUE_FORBIDDEN,
                f"{field} {queue} не очередь клиники {organization_id}: "
                f"допустимы только очереди {own}*.",
            )
    return organization_id
