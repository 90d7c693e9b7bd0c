"""The clinics' door: a clinic's message is taken only from the clinic it names, and answered
only at that clinic's own queues.

RabbitMQ refuses a message whose AMQP `user_id` is not the user of the connection that
publishes it, so `user_id` says which broker user sent it; a clinic's user is
`<vhost prefix>.clinic.<organization id>` (`gosmed.runtime.broker_access`), created by
`python -m gosmed.runtime.broker_access clinic add <organization id>`.
"""

from uuid import UUID

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode
from gosmed.runtime.broker import RefusedError
from gosmed.runtime.broker_access import clinic_of_user


def sending_clinic(
    vhost: str,
    user_id: str | None,
    named_organization: UUID,
    queues: dict[str, str | None],
    *,
    what: str = "Сообщение",
) -> UUID:
    """The organization of the clinic that sent a message naming `named_organization`;
    `RefusedError` (dead-lettered with the reason) when the sender is no clinic, another
    clinic, or names (in `queues`: field -> queue) a queue not its own. `what` names the
    message in the reasons («Отчёт», «Расписание»)."""
    if not user_id:
        raise RefusedError(
            ErrorCode.CLINIC_UNIDENTIFIED,
            f"{what} без свойства user_id: укажите в нём пользователя брокера вашей клиники.",
        )
    organization_id = clinic_of_user(vhost, user_id)
    if organization_id is None:
        raise RefusedError(
            ErrorCode.CLINIC_UNKNOWN,
            f"Пользователь брокера {user_id} не является пользователем клиники.",
        )
    if organization_id != named_organization:
        raise RefusedError(
            ErrorCode.ORGANIZATION_MISMATCH,
            f"Клиника {organization_id} прислала {what.lower()} от имени организации "
            f"{named_organization}.",
        )
    own = topology.clinic_queue_prefix(organization_id)
    for field, queue in queues.items():
        if queue and not queue.startswith(own):
            raise RefusedError(
                ErrorCode.CLINIC_QUEUE_FORBIDDEN,
                f"{field} {queue} не очередь клиники {organization_id}: "
                f"допустимы только очереди {own}*.",
            )
    return organization_id
