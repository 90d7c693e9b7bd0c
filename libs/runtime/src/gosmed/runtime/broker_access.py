"""Who may do what on the broker: one user per service, one for the edge, one per clinic.

RabbitMQ checks three regular expressions per user and vhost (configure: declare and delete;
write: publish to an exchange, bind a queue; read: consume a queue, bind from an exchange).
The rights below follow the topology (gosmed.contracts.topology), least privilege first:

- A service configures and reads only its own queues (`<service>.` — its RPC, command and event
  queues and their `.dead-letter` twins), binds them to the shared exchanges it consumes from
  (read on `gosmed.events`, `gosmed.dead-letter`, records, feedback and scheduling:
  `gosmed.clinic-intake`), and writes to `amq.default` (RPC calls, replies and commands to
  another service's queue),
  `gosmed.dead-letter` and, if it publishes events, `gosmed.events`.
- The edge: its own `edge.` queues (the session feed of each replica and its dead-letter
  queue), `amq.default` (RPCs, the feed's barrier marker), reads `gosmed.events`.
- A clinic: configures and reads only `clinic.<organization>.` queues, writes only
  `gosmed.clinic-intake`; never `amq.default`, so it can neither call an RPC nor put anything
  into a platform queue. Direct reply-to needs no right at all.
- The shared exchanges, `gosmed.unrouted` and the queues one service fills for another
  (`identity.send-notification`) are declared here, by the admin step; services only check
  they exist (passive declare), so no service holds the right to delete them.

User names carry the vhost (`<vhost>.<service>`, `<vhost>.edge`,
`<vhost>.clinic.<organization>`; vhost `/` is `gosmed`), so the vhosts of one broker never
share a user. Passwords come from `GOSMED_BROKER_PASSWORD_<NAME>` when set (compose,
Kubernetes), otherwise they are generated once and kept in `GOSMED_BROKER_SECRETS_FILE`
(default `~/.config/gosmed/broker-secrets.json`, mode 0600: one per user, so every checkout on
a machine agrees on them) so reruns reuse them.

Administration goes through the management HTTP API at `GOSMED_BROKER_ADMIN_URL`.

    python -m gosmed.runtime.broker_access setup
    python -m gosmed.runtime.broker_access clinic add <organization_id>
    python -m gosmed.runtime.broker_access clinic remove <organization_id>
"""

import argparse
import asyncio
import base64
import contextlib
import fcntl
import json
import os
import re
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from uuid import UUID

from pydantic import AliasChoices, Field

from gosmed.contracts import topology
from gosmed.contracts.errors import ErrorCode, ServiceError
from gosmed.contracts.identity.notifications import NOTIFY_QUEUE
from gosmed.contracts.topology import Service
from gosmed.runtime.settings import CommonSettings

EDGE = "edge"
PLATFORM = (*(s.value for s in Service), EDGE)
# Services that publish events, and those that bind queues to the events exchange.
EVENT_PUBLISHERS = frozenset(
    {Service.IDENTITY, Service.RECORDS, Service.REGISTRY, Service.FEEDBACK, Service.SCHEDULING}
)
EVENT_CONSUMERS = frozenset({Service.RECORDS, Service.REGISTRY, EDGE})
# Services that take clinics' messages: they bind a queue to the clinics' door.
CLINIC_CONSUMERS = frozenset({Service.RECORDS, Service.FEEDBACK, Service.SCHEDULING})
# Command queues one service fills for another: declared by the setup, so messages wait there
# even before their consumer first started, and the publishers need no right to declare them.
SHARED_COMMAND_QUEUES = (NOTIFY_QUEUE,)
DEFAULT_VHOST_PREFIX = "gosmed"
SECRETS_MODE = 0o600


class BrokerAccessSettings(CommonSettings):
    admin_url: str = Field(
        default="http://guest:guest@127.0.0.1:15672",
        validation_alias=AliasChoices("GOSMED_BROKER_ADMIN_URL", "admin_url"),
        description="RabbitMQ management API with an administrator's credentials.",
    )
    secrets_file: str = Field(
        default="~/.config/gosmed/broker-secrets.json",
        validation_alias=AliasChoices("GOSMED_BROKER_SECRETS_FILE", "secrets_file"),
        description="Where generated broker passwords are kept (dev and test), one file per "
        "user so that two checkouts on one machine do not reset each other's; empty: nowhere "
        "(passwords come from GOSMED_BROKER_PASSWORD_<NAME>, clinic passwords are printed once).",
    )


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str


def _any(*patterns: str) -> str:
    return "|".join(patterns)


def _exact(name: str) -> str:
    return f"^{re.escape(name)}$"


def _prefix(name: str) -> str:
    return f"^{re.escape(name)}\\."


DEFAULT_EXCHANGE = _exact("amq.default")
EVENTS = _exact(topology.EVENTS_EXCHANGE)
DEAD_LETTERS = _exact(topology.DEAD_LETTER_EXCHANGE)
CLINIC_INTAKE = _exact(topology.CLINIC_INTAKE_EXCHANGE)


def service_permissions(service: Service) -> Permissions:
    own = _prefix(service.value)
    write = [own, DEFAULT_EXCHANGE, DEAD_LETTERS]
    read = [own, DEAD_LETTERS]
    if service in EVENT_PUBLISHERS:
        write.append(EVENTS)
    if service in EVENT_CONSUMERS:
        read.append(EVENTS)
    if service in CLINIC_CONSUMERS:
        read.append(CLINIC_INTAKE)  # binds its clinic queues to the clinics' door
    return Permissions(configure=own, write=_any(*write), read=_any(*read))


def edge_permissions() -> Permissions:
    own = _prefix(EDGE)
    return Permissions(
        configure=own,
        write=_any(own, DEFAULT_EXCHANGE, DEAD_LETTERS),
        read=_any(own, EVENTS, DEAD_LETTERS),
    )


def platform_permissions(name: str) -> Permissions:
    return edge_permissions() if name == EDGE else service_permissions(Service(name))


def clinic_permissions(organization_id: UUID) -> Permissions:
    own = "^" + re.escape(topology.clinic_queue_prefix(organization_id))
    return Permissions(configure=own, write=CLINIC_INTAKE, read=own)


def vhost_of(amqp_url: str) -> str:
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def user_prefix(vhost: str) -> str:
    return DEFAULT_VHOST_PREFIX if vhost == "/" else vhost


def platform_user(vhost: str, name: str) -> str:
    return f"{user_prefix(vhost)}.{name}"


def clinic_user(vhost: str, organization_id: UUID) -> str:
    return f"{user_prefix(vhost)}.clinic.{organization_id}"


def clinic_of_user(vhost: str, user_id: str | None) -> UUID | None:
    """The organization whose clinic user `user_id` is in this vhost; None for anyone else."""
    head = f"{user_prefix(vhost)}.clinic."
    if not user_id or not user_id.startswith(head):
        return None
    try:
        organization_id = UUID(user_id[len(head) :])
    except ValueError:
        return None
    return organization_id if clinic_user(vhost, organization_id) == user_id else None


def with_credentials(amqp_url: str, user: str, password: str) -> str:
    parts = urlsplit(amqp_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def password_variable(name: str) -> str:
    """The environment variable holding the broker password of platform process `name`."""
    return "GOSMED_BROKER_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


class AdminError(RuntimeError):
    pass


class Passwords:
    """Broker passwords: `GOSMED_BROKER_PASSWORD_<NAME>` first, else the local secrets file."""

    def __init__(self, secrets_file: str) -> None:
        self.path = Path(secrets_file).expanduser() if secrets_file else None

    @staticmethod
    def _env(name: str) -> str | None:
        return os.environ.get(password_variable(name)) or None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, SECRETS_MODE)
        with os.fdopen(fd, "r+") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            os.fchmod(file.fileno(), SECRETS_MODE)
            text = file.read()
            stored: dict[str, str] = json.loads(text) if text.strip() else {}
            before = dict(stored)
            yield stored
            if stored != before:
                file.seek(0)
                file.truncate()
                json.dump(stored, file, indent=2, sort_keys=True)

    def get(self, user: str, *, env_name: str | None = None, fresh: bool = False) -> str:
        """The password of `user`: from the environment (by `env_name`), else kept, else new."""
        if env_name is not None and (given := self._env(env_name)):
            return given
        if self.path is None:
            if env_name is not None:
                # A platform password nobody else knows would lock the process out.
                raise AdminError(f"{password_variable(env_name)} is not set (no secrets file)")
            return secrets.token_urlsafe(24)
        with self._locked() as stored:
            if fresh or user not in stored:
                stored[user] = secrets.token_urlsafe(24)
            return stored[user]

    def forget(self, user: str) -> None:
        if self.path is not None and self.path.exists():
            with self._locked() as stored:
                stored.pop(user, None)


class BrokerAdmin:
    """The few calls of RabbitMQ's management HTTP API that gosmed needs (standard library
    HTTP: nothing more is worth a dependency here)."""

    def __init__(self, admin_url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(admin_url)
        self.base = urlunsplit(
            (parts.scheme, f"{parts.hostname}:{parts.port or 15672}", "/api", "", "")
        )
        credentials = f"{unquote(parts.username or 'guest')}:{unquote(parts.password or 'guest')}"
        self._auth = "Basic " + base64.b64encode(credentials.encode()).decode()
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the configured admin URL)
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": self._auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                text = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 404 and method in ("GET", "DELETE"):
                return None
            detail = error.read().decode(errors="replace")[:500]
            raise AdminError(f"{method} {path}: HTTP {error.code} {detail}") from None
        except OSError as error:
            raise AdminError(f"management API at {self.base} unreachable: {error}") from None
        return json.loads(text) if text else {}

    @staticmethod
    def _q(name: str) -> str:
        return quote(name, safe="")

    def put_vhost(self, vhost: str) -> None:
        self.request("PUT", f"/vhosts/{self._q(vhost)}", {})

    def put_user(self, user: str, password: str) -> None:
        self.request("PUT", f"/users/{self._q(user)}", {"password": password, "tags": ""})

    def user_exists(self, user: str) -> bool:
        return self.request("GET", f"/users/{self._q(user)}") is not None

    def delete_user(self, user: str) -> None:
        self.request("DELETE", f"/users/{self._q(user)}")

    def put_permissions(self, vhost: str, user: str, permissions: Permissions) -> None:
        self.request(
            "PUT",
            f"/permissions/{self._q(vhost)}/{self._q(user)}",
            {
                "configure": permissions.configure,
                "write": permissions.write,
                "read": permissions.read,
            },
        )

    def put_exchange(
        self, vhost: str, name: str, kind: str, arguments: dict[str, Any] | None = None
    ) -> None:
        self.request(
            "PUT",
            f"/exchanges/{self._q(vhost)}/{self._q(name)}",
            {"type": kind, "durable": True, "auto_delete": False, "arguments": arguments or {}},
        )

    def put_queue(self, vhost: str, name: str, arguments: dict[str, Any] | None = None) -> None:
        self.request(
            "PUT",
            f"/queues/{self._q(vhost)}/{self._q(name)}",
            {"durable": True, "auto_delete": False, "arguments": arguments or {}},
        )

    def delete_queue(self, vhost: str, name: str) -> None:
        self.request("DELETE", f"/queues/{self._q(vhost)}/{self._q(name)}")

    def bind(self, vhost: str, exchange: str, queue: str, routing_key: str = "") -> None:
        self.request(
            "POST",
            f"/bindings/{self._q(vhost)}/e/{self._q(exchange)}/q/{self._q(queue)}",
            {"routing_key": routing_key, "arguments": {}},
        )

    def close_connections(self, user: str) -> None:
        for connection in self.request("GET", "/connections?columns=name,user") or []:
            if connection.get("user") == user:
                self.request("DELETE", f"/connections/{self._q(connection['name'])}")


def queue_arguments(
    settings: CommonSettings, *, dead_letter_as: str | None = None
) -> dict[str, Any]:
    """Arguments of a durable queue as `gosmed.runtime.broker.durable_queue` declares it."""
    arguments: dict[str, Any] = {}
    if dead_letter_as is not None:
        arguments["x-dead-letter-exchange"] = topology.DEAD_LETTER_EXCHANGE
        arguments["x-dead-letter-routing-key"] = dead_letter_as
    if settings.queue_type == "quorum":
        arguments["x-queue-type"] = "quorum"
    return arguments


class BrokerAccess:
    """Setup of a vhost for gosmed, and the clinics' users."""

    def __init__(self, settings: BrokerAccessSettings | None = None) -> None:
        self.settings = settings or BrokerAccessSettings()
        self.admin = BrokerAdmin(self.settings.admin_url)
        self.passwords = Passwords(self.settings.secrets_file)
        self.vhost = vhost_of(self.settings.amqp_url)

    def setup(self) -> dict[str, str]:
        """Vhost, shared exchanges and queues, platform users and their rights (idempotent).
        Returns each platform process's AMQP URL."""
        vhost, admin = self.vhost, self.admin
        admin.put_vhost(vhost)
        admin.put_exchange(vhost, topology.UNROUTED_EXCHANGE, "fanout")
        admin.put_queue(
            vhost,
            topology.UNROUTED_QUEUE,
            {"x-max-length": topology.UNROUTED_MAX_LENGTH, "x-overflow": "drop-head"},
        )
        admin.bind(vhost, topology.UNROUTED_EXCHANGE, topology.UNROUTED_QUEUE)
        admin.put_exchange(
            vhost,
            topology.EVENTS_EXCHANGE,
            "topic",
            {"alternate-exchange": topology.UNROUTED_EXCHANGE},
        )
        admin.put_exchange(vhost, topology.DEAD_LETTER_EXCHANGE, "direct")
        admin.put_exchange(vhost, topology.CLINIC_INTAKE_EXCHANGE, "direct")
        for queue in SHARED_COMMAND_QUEUES:
            admin.put_queue(vhost, queue, queue_arguments(self.settings, dead_letter_as=queue))
        urls = {}
        for name in PLATFORM:
            user = platform_user(vhost, name)
            password = self.passwords.get(user, env_name=name)
            admin.put_user(user, password)
            admin.put_permissions(vhost, user, platform_permissions(name))
            urls[name] = with_credentials(self.settings.amqp_url, user, password)
        return urls

    def platform_url(self, name: str) -> str:
        user = platform_user(self.vhost, name)
        return with_credentials(
            self.settings.amqp_url, user, self.passwords.get(user, env_name=name)
        )

    def add_clinic(self, organization_id: UUID, *, fresh_password: bool = False) -> str:
        """The clinic's user, rights and queues; returns its AMQP URL (with the password)."""
        vhost, admin = self.vhost, self.admin
        user = clinic_user(vhost, organization_id)
        password = self.passwords.get(user, fresh=fresh_password)
        admin.put_user(user, password)
        admin.put_permissions(vhost, user, clinic_permissions(organization_id))
        for queue in topology.clinic_queues(organization_id):
            admin.put_queue(vhost, queue, queue_arguments(self.settings))
        return with_credentials(self.settings.amqp_url, user, password)

    def remove_clinic(self, organization_id: UUID) -> None:
        """Delete the clinic's user (its connections close) and its queues."""
        vhost, admin = self.vhost, self.admin
        user = clinic_user(vhost, organization_id)
        admin.delete_user(user)
        admin.close_connections(user)
        for queue in topology.clinic_queues(organization_id):
            admin.delete_queue(vhost, queue)
        self.passwords.forget(user)


async def organization_exists(amqp_url: str, organization_id: UUID, timeout: float = 5.0) -> bool:
    """Ask registry (raises `ServiceError` when registry does not answer)."""
    from gosmed.contracts.registry.organizations import GET_ORGANIZATIONS, GetOrganizations
    from gosmed.runtime.rpc import RpcClient

    client = RpcClient(amqp_url, timeout=timeout, name="gosmed-broker-access")
    try:
        await client.connect()
    except Exception as error:
        raise ServiceError(ErrorCode.SERVICE_UNAVAILABLE, str(error)) from None
    try:
        view = await client.call(GET_ORGANIZATIONS, GetOrganizations(ids=(organization_id,)))
    finally:
        await client.close()
    return any(card.id == organization_id for card in view.items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gosmed.runtime.broker_access",
        description="Broker users and rights of gosmed (GOSMED_AMQP_URL's vhost).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="vhost, shared exchanges, service users (idempotent)")
    clinic = commands.add_parser("clinic", help="a clinic's broker user")
    actions = clinic.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create the clinic's user and queues, print its URL")
    add.add_argument("organization_id", type=UUID)
    add.add_argument(
        "--skip-registry-check",
        action="store_true",
        help="do not ask registry whether the organization exists (registry is not running)",
    )
    remove = actions.add_parser("remove", help="delete the clinic's user and queues")
    remove.add_argument("organization_id", type=UUID)
    args = parser.parse_args(argv)
    access = BrokerAccess()
    try:
        if args.command == "setup":
            access.setup()
            print(f"broker set up for vhost {access.vhost!r}", file=sys.stderr)
        elif args.action == "add":
            if not args.skip_registry_check:
                admin_url = access.platform_url(EDGE)
                try:
                    found = asyncio.run(organization_exists(admin_url, args.organization_id))
                except ServiceError as error:
                    print(
                        f"registry did not answer ({error.code.value}); start the platform "
                        "or pass --skip-registry-check",
                        file=sys.stderr,
                    )
                    return 2
                if not found:
                    print(f"no organization {args.organization_id} in registry", file=sys.stderr)
                    return 1
            print(access.add_clinic(args.organization_id, fresh_password=True))
        else:
            access.remove_clinic(args.organization_id)
            print(f"clinic {args.organization_id} removed", file=sys.stderr)
    except AdminError as error:
        print(f"broker administration failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
