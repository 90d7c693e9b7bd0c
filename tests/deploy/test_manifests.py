"""Keeps deploy/ honest: the manifests name real services, real settings and real exchanges.

Nothing here needs Docker, Kubernetes or a broker: the files are parsed and checked against
the code they deploy (the service packages, the settings classes, the broker topology).
"""

import importlib
import json
import os
import re
import shlex
import tomllib
import typing
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from gosmed.contracts.topology import Service
from gosmed.documents.settings import DocumentsSettings
from gosmed.edge.settings import EdgeSettings
from gosmed.identity.settings import IdentitySettings
from gosmed.records.settings import RecordsSettings
from gosmed.runtime import health
from gosmed.runtime.broker_access import (
    PLATFORM,
    BrokerAccessSettings,
    password_variable,
    platform_user,
    vhost_of,
)
from gosmed.runtime.settings import CommonSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
DEFINITIONS = DEPLOY / "rabbitmq" / "definitions.json"
RABBITMQ_CONF = DEPLOY / "rabbitmq" / "rabbitmq.conf"
K8S = DEPLOY / "k8s"
# The directories this suite owns; deploy/local/ (developer scripts) has variables of its own.
MANIFEST_DIRS = ("docker", "compose", "k8s", "rabbitmq")

WEASYPRINT_PACKAGES = {
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz0b",
    "libharfbuzz-subset0",
    "fonts-dejavu-core",
    "fonts-liberation",
}
BASE_IMAGE = "python:3.11-slim-bookworm"
CONFIG_MAP = "gosmed-config"
SECRET = "gosmed-secrets"
BROKER_SECRET = "gosmed-broker"
KEYS_SECRET = "gosmed-signing-keys"
# The settings naming a private key that every replica must share (unset: a key per start).
KEY_SETTINGS = {
    "identity": "jwt_private_key_path",
    "documents": "signing_key_path",
}
# Keys read besides during a key rotation only (deploy/README.md, "Rotating the token key"):
# none in the manifests as shipped.
ROTATION_KEY_SETTINGS = {"identity": "jwt_accepted_key_paths"}
# The image's WORKDIR: where a relative path setting lands in the container.
IMAGE_WORKDIR = PurePosixPath("/app")
GOSMED_NAME = re.compile(r"\bGOSMED_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


# --- what the code says ----------------------------------------------------------------------


def service_packages() -> set[str]:
    """Every runnable service package: services/<name>/src/gosmed/<name>/__main__.py."""
    return {
        path.name
        for path in (ROOT / "services").iterdir()
        if (path / "src" / "gosmed" / path.name / "__main__.py").is_file()
    }


PROCESSES = sorted(service_packages())
BROKER_SERVICES = [name for name in PROCESSES if name != "edge"]


def settings_class(process: str) -> type[CommonSettings]:
    """The settings class a process reads: the one defined in gosmed.<process>.settings."""
    module = importlib.import_module(f"gosmed.{process}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, CommonSettings)
        and obj.__module__ == module.__name__
    ]
    assert len(found) == 1, f"gosmed.{process}.settings should define one settings class"
    return found[0]


def env_names(cls: type[BaseSettings]) -> frozenset[str]:
    """The environment variables a settings class reads (pydantic-settings is case-blind)."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        elif field.alias:
            names.add(field.alias)
        else:
            names.add(prefix + field_name)
    return frozenset(name.upper() for name in names)


SHARED_NAMES = env_names(CommonSettings)
# The broker setup (python -m gosmed.runtime.broker_access) is a process of its own.
SETUP_NAMES = env_names(BrokerAccessSettings) | {password_variable(name) for name in PLATFORM}
ALL_NAMES = frozenset().union(*(env_names(settings_class(p)) for p in PROCESSES), SETUP_NAMES)
BROKER_SETUP = "broker-setup"
SETUP_COMMAND = ["python", "-m", "gosmed.runtime.broker_access"]
VHOST = "gosmed"


def load_settings(
    cls: type[CommonSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> CommonSettings:
    """Instantiate `cls` the way a container does: from these environment variables only."""
    for key in list(os.environ):
        if key.upper() in ALL_NAMES or key.upper().startswith("GOSMED_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cls()


def unknown_gosmed_names(names: set[str], known: frozenset[str]) -> set[str]:
    return {name for name in names if name.upper().startswith("GOSMED_") and name not in known}


# --- the code-side facts the checks below rely on --------------------------------------------


def test_service_packages_are_the_topology_services_and_the_edge() -> None:
    assert set(PROCESSES) == {s.value for s in Service} | {"edge"}


def test_settings_classes_are_found_and_extend_the_shared_ones() -> None:
    assert settings_class("edge") is EdgeSettings
    assert "GOSMED_EDGE_HOST" in env_names(EdgeSettings)
    for name in PROCESSES:
        cls = settings_class(name)
        assert env_names(cls) >= SHARED_NAMES
        if name != "edge":
            assert issubclass(cls, ServiceSettings)
            assert f"GOSMED_{name.upper()}_MONGODB_DATABASE" in env_names(cls)
    assert {"GOSMED_AMQP_URL", "GOSMED_QUEUE_TYPE", "GOSMED_LOG_FORMAT"} <= SHARED_NAMES
    assert "GOSMED_RECORDS_MONGODB_DATABASE" not in env_names(EdgeSettings)


def path_settings(cls: type[BaseSettings]) -> set[str]:
    """The fields of a settings class that name a file (`Path` or `Path | None`)."""
    return {
        name
        for name, field in cls.model_fields.items()
        if field.annotation is Path or Path in typing.get_args(field.annotation)
    }


def test_the_files_services_read_or_write_are_the_known_ones() -> None:
    """A new file setting must be given a mount below (a Secret or a writable volume)."""
    files = {name: path_settings(settings_class(name)) for name in PROCESSES}
    assert {name: found for name, found in files.items() if found} == {
        "identity": {
            "jwt_private_key_path",
            "jwt_accepted_key_paths",
            "sms_outbox_path",
            "health_dir",
        },
        "documents": {"signing_key_path", "health_dir"},
        # unset in deployments (tests only; refused in production)
        "feedback": {"clock_offset_file", "health_dir"},
        "records": {"correction_clock_offset_file", "health_dir"},
        **{
            name: {"health_dir"}
            for name in BROKER_SERVICES
            if name not in KEY_SETTINGS and name not in {"feedback", "records"}
        },
    }
    for name, field in KEY_SETTINGS.items():
        assert field in files[name]
        assert settings_class(name).model_fields[field].default is None, "unset: a key per start"
    for name, field in ROTATION_KEY_SETTINGS.items():
        assert field in files[name]


def read_keys(name: str) -> set[str | None]:
    """The path settings of a process that name keys it only reads (mounted read-only)."""
    return {KEY_SETTINGS.get(name), ROTATION_KEY_SETTINGS.get(name)}


# --- every YAML file parses ------------------------------------------------------------------


YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def test_the_expected_yaml_files_exist() -> None:
    assert COMPOSE_FILE in YAML_FILES
    assert K8S / "kustomization.yaml" in YAML_FILES
    assert K8S / "secret.example.yaml" in YAML_FILES


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents, f"{path} is empty"
    assert all(isinstance(doc, dict) for doc in documents)


def test_manifests_name_only_real_gosmed_settings() -> None:
    """Any GOSMED_* in the manifests, comments included, is read by some process."""
    seen: set[str] = set()
    for directory in MANIFEST_DIRS:
        for path in (DEPLOY / directory).rglob("*"):
            if path.is_file():
                names = set(GOSMED_NAME.findall(path.read_text()))
                assert not names - ALL_NAMES, f"{path}: not a setting: {names - ALL_NAMES}"
                seen |= names
    assert {"GOSMED_AMQP_URL", "GOSMED_MONGODB_URL", "GOSMED_EDGE_HOST"} <= seen


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    assert not current, "Dockerfile ends inside a continuation line"
    return instructions


INSTRUCTIONS = dockerfile_instructions(DOCKERFILE.read_text())


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in INSTRUCTIONS:
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def env_instructions(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for item in shlex.split(arguments):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_dockerfile_builds_on_python_311_slim_bookworm() -> None:
    arg_defaults = {
        key: value
        for keyword, arguments in INSTRUCTIONS
        if keyword == "ARG" and "=" in arguments
        for key, _, value in [arguments.partition("=")]
    }
    froms = [arguments.split()[0] for keyword, arguments in INSTRUCTIONS if keyword == "FROM"]
    assert len(froms) >= 2, "a multi-stage build"
    for image in froms:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: arg_defaults.get(m.group(1), ""), image)
        assert resolved == BASE_IMAGE


def test_dockerfile_copies_every_workspace_member_manifest_before_the_first_sync() -> None:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    members = sorted(
        path.relative_to(ROOT).as_posix()
        for pattern in workspace["members"]
        for path in ROOT.glob(pattern)
        if (path / "pyproject.toml").is_file()
    )
    assert len(members) == len(PROCESSES) + 2  # the services and libs/{contracts,runtime}
    build = stages()[0]
    syncs = [i for i, (kw, args) in enumerate(build) if kw == "RUN" and "uv sync" in args]
    assert len(syncs) == 2, "dependencies first, then the workspace's own code"
    before_sync = {args for kw, args in build[: syncs[0]] if kw == "COPY"}
    assert "pyproject.toml uv.lock ./" in before_sync
    for member in members:
        assert f"{member}/pyproject.toml {member}/" in before_sync, member
    assert not any(args.startswith(("libs/ ", "services/ ")) for args in before_sync)
    between = {args for kw, args in build[syncs[0] : syncs[1]] if kw == "COPY"}
    assert {"libs/ libs/", "services/ services/"} <= between
    first, second = build[syncs[0]][1], build[syncs[1]][1]
    for command in (first, second):
        assert "--frozen" in command
        assert "--no-dev" in command
        assert '--package "gosmed-${SERVICE}"' in command
    assert "--no-install-workspace" in first
    assert "--no-editable" in second
    assert any(kw == "RUN" and re.search(r"pip install .*\buv\b", a) for kw, a in build)
    assert env_instructions(build)["UV_PROJECT_ENVIRONMENT"] == "/app/.venv"


def test_dockerfile_installs_weasyprint_libraries_for_documents_only() -> None:
    installs = [args for kw, args in INSTRUCTIONS if kw == "RUN" and "apt-get install" in args]
    assert len(installs) == 1
    (command,) = installs
    assert '[ "${SERVICE}" = "documents" ]' in command
    after_install = command.split("apt-get install", 1)[1].split("&&", 1)[0]
    packages = {word for word in after_install.split() if not word.startswith("-")}
    assert packages >= WEASYPRINT_PACKAGES
    assert "rm -rf /var/lib/apt/lists/*" in command


def test_dockerfile_runtime_stage_runs_the_service_as_non_root() -> None:
    runtime = stages()[-1]
    keywords = [kw for kw, _ in runtime]
    assert ("COPY", "--from=build /app/.venv /app/.venv") in runtime
    users = [args for kw, args in runtime if kw == "USER"]
    assert users
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    assert ("STOPSIGNAL", "SIGTERM") in runtime
    assert keywords[-1] == "CMD"
    cmd = json.loads(runtime[-1][1])
    assert cmd[-1] == 'exec python -m "gosmed.${SERVICE}"'
    env = env_instructions(runtime)
    assert env["SERVICE"] == "${SERVICE}"
    assert env["PATH"].startswith("/app/.venv/bin:")
    assert env["GOSMED_LOG_FORMAT"] == "json"
    assert not unknown_gosmed_names(set(env), SHARED_NAMES)


def test_dockerignore_next_to_the_dockerfile_keeps_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", "**/.venv", "**/__pycache__", "var/"} <= ignored
    for needed in ("pyproject.toml", "uv.lock", "libs", "services", "libs/", "services/"):
        assert needed not in ignored


# --- docker compose --------------------------------------------------------------------------


COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
COMPOSE_SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def interpolate(value: str) -> str:
    """Compose's `${VAR:-default}` with every variable unset: the defaults."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    raw = service["environment"]
    assert isinstance(raw, dict), "environment as a mapping"
    return {key: interpolate(str(value)) for key, value in raw.items()}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, duration
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_compose_has_one_container_per_service_built_from_the_dockerfile() -> None:
    built = {name for name, service in COMPOSE_SERVICES.items() if "build" in service}
    assert built == {*PROCESSES, BROKER_SETUP}
    setup = COMPOSE_SERVICES[BROKER_SETUP]
    assert setup["build"]["args"]["SERVICE"] in PROCESSES, "a service image holds the command"
    assert setup["image"].split(":")[0] == f"gosmed/{BROKER_SETUP}"
    for name in PROCESSES:
        service = COMPOSE_SERVICES[name]
        build = service["build"]
        assert build["args"]["SERVICE"] == name
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE
        assert service["image"].split(":")[0] == f"gosmed/{name}"
        assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", sorted(set(COMPOSE_SERVICES) - {BROKER_SETUP}))
def test_compose_restarts_every_container_that_exits(name: str) -> None:
    """Without a policy, a crashed service stays down (Docker's default is `no`)."""
    assert COMPOSE_SERVICES[name].get("restart") in ("unless-stopped", "always"), name


def test_compose_broker_setup_runs_once_before_every_process() -> None:
    setup = COMPOSE_SERVICES[BROKER_SETUP]
    assert setup["restart"] == "no", "a one-shot job, waited for until it completed"
    assert setup["entrypoint"] == SETUP_COMMAND
    assert setup["command"] == ["setup"]
    assert setup["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    for name in PROCESSES:
        assert COMPOSE_SERVICES[name]["depends_on"][BROKER_SETUP] == {
            "condition": "service_completed_successfully"
        }


def test_compose_infrastructure_is_healthchecked_and_waited_for() -> None:
    rabbitmq, mongodb = COMPOSE_SERVICES["rabbitmq"], COMPOSE_SERVICES["mongodb"]
    assert rabbitmq["image"] == "rabbitmq:3.13-management"
    assert "rabbitmq-diagnostics -q ping" in " ".join(rabbitmq["healthcheck"]["test"])
    assert mongodb["image"] == "mongo:7"
    assert "healthcheck" in mongodb
    for name in PROCESSES:
        depends_on = COMPOSE_SERVICES[name]["depends_on"]
        assert "rabbitmq" in depends_on
        if name != "edge":
            assert "mongodb" in depends_on
        for dependency, condition in depends_on.items():
            if dependency == BROKER_SETUP:
                continue  # checked above: a one-shot job, not a healthchecked server
            assert condition == {"condition": "service_healthy"}
            assert "healthcheck" in COMPOSE_SERVICES[dependency]


def test_compose_mounts_the_rabbitmq_definitions_and_config() -> None:
    mounts = {}
    for volume in COMPOSE_SERVICES["rabbitmq"]["volumes"]:
        source, target = interpolate(volume).split(":")[:2]
        mounts[target] = source
    conf = (COMPOSE_FILE.parent / mounts["/etc/rabbitmq/rabbitmq.conf"]).resolve()
    assert conf == RABBITMQ_CONF
    definitions = (COMPOSE_FILE.parent / mounts["/etc/rabbitmq/definitions.json"]).resolve()
    assert definitions == DEFINITIONS
    assert "/var/lib/rabbitmq" in mounts, "durable queues survive a recreated container"


@pytest.mark.parametrize("name", PROCESSES)
def test_compose_environment_is_read_by_the_service(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE_SERVICES[name]
    env = compose_env(service)
    cls = settings_class(name)
    assert not unknown_gosmed_names(set(env), env_names(cls))
    settings = load_settings(cls, env, monkeypatch)
    assert settings.log_format == "json"
    assert settings.queue_type == "classic", "one broker node in compose"
    amqp = urlsplit(settings.amqp_url)
    assert amqp.hostname == "rabbitmq"
    assert amqp.path == f"/{VHOST}"
    assert (amqp.username, amqp.password) == compose_broker_users()[name]
    assert settings.graceful_timeout < seconds(service["stop_grace_period"])
    if isinstance(settings, ServiceSettings):
        assert settings.mongodb_url, "the embedded store would lose data on restart"
        assert urlsplit(settings.mongodb_url).hostname == "mongodb"


def compose_mounts(service: dict[str, Any]) -> dict[PurePosixPath, dict[str, Any]]:
    """Target -> long-syntax volume entry; short-syntax entries become the same shape."""
    mounts: dict[PurePosixPath, dict[str, Any]] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *options = interpolate(volume).split(":")
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            volume = {
                "type": kind,
                "source": source,
                "target": target,
                "read_only": "ro" in options,
            }
        mounts[PurePosixPath(volume["target"])] = volume
    return mounts


def container_path(value: Path) -> PurePosixPath:
    path = PurePosixPath(value.as_posix())
    return path if path.is_absolute() else IMAGE_WORKDIR / path


def is_under(path: PurePosixPath, directory: PurePosixPath) -> bool:
    return path == directory or directory in path.parents


@pytest.mark.parametrize("name", sorted(KEY_SETTINGS))
def test_compose_signing_key_is_a_read_only_bind_mounted_file(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE_SERVICES[name]
    settings = load_settings(settings_class(name), compose_env(service), monkeypatch)
    value = getattr(settings, KEY_SETTINGS[name])
    assert value is not None, f"{name}: unset, every container would generate its own key"
    target = container_path(value)
    mounts = compose_mounts(service)
    assert target in mounts, f"{name}: {target} is not a mounted file"
    mount = mounts[target]
    assert mount["type"] == "bind"
    assert mount["read_only"] is True
    assert not mount.get("bind", {}).get("create_host_path"), "a missing key must be an error"
    source = (COMPOSE_FILE.parent / interpolate(mount["source"])).resolve()
    assert source.parent == COMPOSE_FILE.parent / "secrets", source
    assert source.suffix == ".pem"


def test_compose_keeps_the_secrets_directory_out_of_git() -> None:
    ignored = (COMPOSE_FILE.parent / ".gitignore").read_text().splitlines()
    assert "secrets/" in ignored


def compose_writable_dirs(service: dict[str, Any]) -> set[PurePosixPath]:
    tmpfs = service.get("tmpfs", [])
    entries = [tmpfs] if isinstance(tmpfs, str) else tmpfs
    dirs = {PurePosixPath(entry.split(":")[0]) for entry in entries}
    dirs |= {
        target
        for target, mount in compose_mounts(service).items()
        if mount["type"] in ("volume", "tmpfs") and not mount["read_only"]
    }
    return dirs


@pytest.mark.parametrize("name", PROCESSES)
def test_compose_files_a_service_writes_are_on_writable_mounts(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = COMPOSE_SERVICES[name]
    assert service["read_only"] is True
    cls = settings_class(name)
    settings = load_settings(cls, compose_env(service), monkeypatch)
    writable = compose_writable_dirs(service)
    for field in path_settings(cls) - read_keys(name):
        if (value := getattr(settings, field)) is None:
            continue  # unset: nothing is written (GOSMED_HEALTH_DIR, for Kubernetes probes)
        path = container_path(value)
        assert any(is_under(path.parent, d) for d in writable), f"{name}.{field}: {path}"


def test_compose_documents_link_to_the_published_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose_env(COMPOSE_SERVICES["documents"])
    settings = load_settings(DocumentsSettings, env, monkeypatch)
    assert isinstance(settings, DocumentsSettings)
    assert settings.public_base_url == "http://localhost:8000"
    assert "8000:8000" in COMPOSE_SERVICES["edge"]["ports"]


def test_compose_edge_listens_publicly_and_is_checked_on_readyz(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edge = COMPOSE_SERVICES["edge"]
    settings = load_settings(EdgeSettings, compose_env(edge), monkeypatch)
    assert isinstance(settings, EdgeSettings)
    assert settings.host == "0.0.0.0"
    assert f"8000:{settings.port}" in edge["ports"]
    check = " ".join(edge["healthcheck"]["test"])
    assert f"127.0.0.1:{settings.port}/readyz" in check


def compose_broker_users() -> dict[str, tuple[str, str]]:
    """The user and password broker-setup gives each process (compose defaults)."""
    env = compose_env(COMPOSE_SERVICES[BROKER_SETUP])
    assert vhost_of(env["GOSMED_AMQP_URL"]) == VHOST
    return {name: (platform_user(VHOST, name), env[password_variable(name)]) for name in PLATFORM}


def test_compose_gives_each_process_its_own_broker_user_and_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No process holds another's broker credentials; the setup knows every password."""
    credentials = {}
    raw = {}
    for name in PROCESSES:
        service = COMPOSE_SERVICES[name]
        settings = load_settings(settings_class(name), compose_env(service), monkeypatch)
        amqp = urlsplit(settings.amqp_url)
        credentials[name] = (amqp.username, amqp.password)
        raw[name] = str(service["environment"]["GOSMED_AMQP_URL"])
    assert set(PROCESSES) == set(PLATFORM)
    assert credentials == compose_broker_users()
    assert len({user for user, _ in credentials.values()}) == len(PROCESSES)
    assert len({password for _, password in credentials.values()}) == len(PROCESSES)
    # Each password is its own variable (a secret of its own), the same one setup reads.
    setup_env = COMPOSE_SERVICES[BROKER_SETUP]["environment"]
    for name, url in raw.items():
        (variable,) = re.findall(r"\$\{(\w+)", url)
        assert setup_env[password_variable(name)].startswith("${" + variable + ":-")
    assert "RABBITMQ_PASSWORD}" not in COMPOSE_FILE.read_text(), "the old shared password"


def test_compose_broker_setup_manages_the_vhost_through_the_admin_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = compose_env(COMPOSE_SERVICES[BROKER_SETUP])
    assert not unknown_gosmed_names(set(env), SETUP_NAMES | SHARED_NAMES)
    settings = load_settings(BrokerAccessSettings, env, monkeypatch)
    assert isinstance(settings, BrokerAccessSettings)
    assert settings.secrets_file == "", "passwords from the environment, nothing written"
    admin = urlsplit(settings.admin_url)
    assert admin.hostname == "rabbitmq"
    assert (admin.username, VHOST) in rabbitmq_grants()
    users = {u["name"]: u for u in DEFINITIONS_DATA["users"]}
    assert "administrator" in users[admin.username or ""]["tags"]
    assert settings.queue_type == "classic", "the queues it declares are the services' type"


# --- RabbitMQ --------------------------------------------------------------------------------


DEFINITIONS_DATA: dict[str, Any] = json.loads(DEFINITIONS.read_text())


def rabbitmq_grants() -> set[tuple[str, str]]:
    """(user, vhost) pairs with full permissions in the definitions file."""
    return {
        (p["user"], p["vhost"])
        for p in DEFINITIONS_DATA["permissions"]
        if p["configure"] == p["write"] == p["read"] == ".*"
    }


def test_definitions_hold_the_vhost_and_the_admin_only() -> None:
    """Exchanges, shared queues and the processes' users are the setup's (one source of truth,
    least privilege); no all-powerful services' user is left in the definitions."""
    assert [v["name"] for v in DEFINITIONS_DATA["vhosts"]] == [VHOST]
    assert DEFINITIONS_DATA.get("exchanges", []) == []
    assert DEFINITIONS_DATA.get("queues", []) == []
    assert DEFINITIONS_DATA.get("bindings", []) == []
    assert DEFINITIONS_DATA.get("policies", []) == []
    users = {u["name"]: u for u in DEFINITIONS_DATA["users"]}
    assert set(users) == {"gosmed-admin"}
    assert users["gosmed-admin"]["tags"] == "administrator"
    assert rabbitmq_grants() == {("gosmed-admin", VHOST)}


def test_definitions_hold_placeholder_passwords_only() -> None:
    users = {u["name"]: u for u in DEFINITIONS_DATA["users"]}
    assert "guest" not in users
    for user in users.values():
        assert "CHANGE-ME" in user["password"]


def test_rabbitmq_conf_loads_the_definitions() -> None:
    settings = {
        key.strip(): value.strip()
        for line in RABBITMQ_CONF.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
        for key, _, value in [line.partition("=")]
    }
    assert settings["load_definitions"] == "/etc/rabbitmq/definitions.json"


# --- Kubernetes ------------------------------------------------------------------------------


def k8s_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


KUSTOMIZATION: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
RESOURCES = [doc for name in KUSTOMIZATION["resources"] for doc in k8s_documents(K8S / name)]
SECRET_EXAMPLE: dict[str, dict[str, Any]] = {
    doc["metadata"]["name"]: doc for doc in k8s_documents(K8S / "secret.example.yaml")
}


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in RESOURCES if doc["kind"] == kind}


DEPLOYMENTS = resources_of("Deployment")
CONFIG_MAPS = resources_of("ConfigMap")
CONFIG_DATA: dict[str, str] = CONFIG_MAPS[CONFIG_MAP]["data"]


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    assert KUSTOMIZATION["namespace"] == "gosmed"
    listed = set(KUSTOMIZATION["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    templates = {p.name for p in K8S.glob("*.example.yaml")}
    assert templates == {"secret.example.yaml", "clinic.example.yaml"}
    assert listed == on_disk - templates
    assert "gosmed" in resources_of("Namespace")
    images = {image["name"] for image in KUSTOMIZATION["images"]}
    assert images == {f"gosmed/{name}" for name in PROCESSES}


def test_k8s_shared_config_and_secret_template() -> None:
    assert CONFIG_DATA["GOSMED_QUEUE_TYPE"] == "quorum"
    assert CONFIG_DATA["GOSMED_LOG_FORMAT"] == "json"
    assert not unknown_gosmed_names(set(CONFIG_DATA), SHARED_NAMES)
    assert not set(CONFIG_DATA) & {"GOSMED_AMQP_URL", "GOSMED_MONGODB_URL"}, "secrets"
    assert {SECRET, KEYS_SECRET} <= set(SECRET_EXAMPLE)
    for secret in SECRET_EXAMPLE.values():
        assert secret["kind"] == "Secret"
        for value in secret["stringData"].values():
            assert "REPLACE-ME" in value, "placeholders only"
    data: dict[str, str] = SECRET_EXAMPLE[SECRET]["stringData"]
    assert set(data) == {"GOSMED_MONGODB_URL"}, "no broker credentials every pod would read"
    broker: dict[str, str] = SECRET_EXAMPLE[BROKER_SECRET]["stringData"]
    assert set(broker) == {*PLATFORM, "admin-url"}, "one password per process"


def test_k8s_secret_template_holds_placeholder_keys_and_says_how_to_make_real_ones() -> None:
    keys: dict[str, str] = SECRET_EXAMPLE[KEYS_SECRET]["stringData"]
    assert keys, "the private keys"
    for value in keys.values():
        assert value.startswith("-----BEGIN PRIVATE KEY-----\n")
        assert value.rstrip().endswith("-----END PRIVATE KEY-----")
        assert "REPLACE-ME" in value
    assert not any(GOSMED_NAME.fullmatch(key) for key in keys), "files, not variables"
    assert "openssl genpkey -algorithm ed25519" in (K8S / "secret.example.yaml").read_text()


def test_k8s_has_one_deployment_per_service() -> None:
    assert set(DEPLOYMENTS) == set(PROCESSES)


def pod_env(container: dict[str, Any]) -> dict[str, str]:
    """The environment a container starts with: gosmed-config, the Secret, then its own env."""
    env: dict[str, str] = {}
    sources = [source.get("configMapRef") or source["secretRef"] for source in container["envFrom"]]
    assert [source["name"] for source in sources[:2]] == [CONFIG_MAP, SECRET]
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env.update(CONFIG_MAPS[source["configMapRef"]["name"]]["data"])
        else:
            name = source["secretRef"]["name"]
            assert name != KEYS_SECRET, "the keys are mounted as files, not variables"
            env.update(SECRET_EXAMPLE[name]["stringData"])
    for item in container.get("env", []):
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = SECRET_EXAMPLE[ref["name"]]["stringData"][ref["key"]]
        else:  # Kubernetes expands $(NAME) from the variables defined before
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], item["value"])
    return env


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Variable -> (Secret, key) of a container's secretKeyRef variables."""
    return {
        item["name"]: (ref["name"], ref["key"])
        for item in container.get("env", [])
        if (ref := item.get("valueFrom", {}).get("secretKeyRef"))
    }


def pod_mounts(name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(volumeMount, volume) pairs of a Deployment's container."""
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    return [(mount, volumes[mount["name"]]) for mount in container.get("volumeMounts", [])]


def k8s_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> CommonSettings:
    (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    return load_settings(settings_class(name), pod_env(container), monkeypatch)


@pytest.mark.parametrize("name", sorted(KEY_SETTINGS))
def test_k8s_signing_key_is_a_file_mounted_read_only_from_the_secret(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = getattr(k8s_settings(name, monkeypatch), KEY_SETTINGS[name])
    assert value is not None, f"{name}: unset, every replica would generate its own key"
    path = container_path(value)
    found = [
        (mount, volume)
        for mount, volume in pod_mounts(name)
        if PurePosixPath(mount["mountPath"]) in path.parents
    ]
    assert len(found) == 1, f"{name}: {path} is not on a mounted volume"
    ((mount, volume),) = found
    assert mount.get("readOnly") is True
    assert "subPath" not in mount
    secret = volume.get("secret")
    assert secret, f"{name}: {path} is not on a Secret volume"
    assert secret["secretName"] == KEYS_SECRET
    relative = path.relative_to(mount["mountPath"]).as_posix()
    projected = {item["path"]: item["key"] for item in secret.get("items", [])}
    key = projected.get(relative, relative if not projected else None)
    assert key in SECRET_EXAMPLE[KEYS_SECRET]["stringData"], f"{name}: {relative} not in Secret"
    # Readable by the service's uid: world-readable, or group-readable by its fsGroup.
    mode = secret.get("defaultMode", 0o644)
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    group_ok = pod["securityContext"].get("fsGroup") == pod["securityContext"]["runAsGroup"]
    assert mode & 0o004 or (group_ok and mode & 0o040), oct(mode)
    assert not mode & 0o002, "never writable"


def test_k8s_each_service_gets_only_its_own_key() -> None:
    projected: dict[str, set[str]] = {}
    for name in PROCESSES:
        for _, volume in pod_mounts(name):
            if volume.get("secret", {}).get("secretName") == KEYS_SECRET:
                items = volume["secret"].get("items")
                assert items, f"{name} would get every key"
                projected.setdefault(name, set()).update(item["key"] for item in items)
    assert set(projected) == set(KEY_SETTINGS)
    assert all(len(keys) == 1 for keys in projected.values())
    assert len(set.union(*projected.values())) == len(KEY_SETTINGS), "one key per purpose"


@pytest.mark.parametrize("name", PROCESSES)
def test_k8s_files_a_service_writes_are_on_writable_volumes(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(name)
    settings = k8s_settings(name, monkeypatch)
    writable = [
        PurePosixPath(mount["mountPath"])
        for mount, volume in pod_mounts(name)
        if "emptyDir" in volume and not mount.get("readOnly") and "subPath" not in mount
    ]
    for field in path_settings(cls) - read_keys(name):
        if getattr(settings, field) is None:  # a file the deployment does not use
            continue
        path = container_path(getattr(settings, field))
        assert any(is_under(path.parent, d) for d in writable), f"{name}.{field}: {path}"


def test_k8s_identity_sms_outbox_is_the_documented_development_adapter() -> None:
    volumes = {v["name"]: v for _, v in pod_mounts("identity")}
    assert "emptyDir" in volumes["sms-outbox"]
    text = (K8S / "identity.yaml").read_text()
    assert "replace with a real SMS gateway adapter in production" in text


def test_k8s_mail_and_public_address_are_set_for_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("identity", "documents"):
        settings = k8s_settings(name, monkeypatch)
        assert isinstance(settings, IdentitySettings | DocumentsSettings)
        host = settings.smtp_host
        assert host != settings_class(name).model_fields["smtp_host"].default, "no relay in a pod"
        assert host.endswith(".example.org"), "a placeholder to replace"
    documents = k8s_settings("documents", monkeypatch)
    assert isinstance(documents, DocumentsSettings)
    url = urlsplit(documents.public_base_url)
    assert url.scheme == "https"
    assert url.hostname not in (None, "127.0.0.1", "localhost")
    (container,) = DEPLOYMENTS["documents"]["spec"]["template"]["spec"]["containers"]
    smtp_login = [
        source["secretRef"]
        for source in container["envFrom"]
        if source.get("secretRef", {}).get("name") == "gosmed-documents-smtp"
    ]
    assert smtp_login == [{"name": "gosmed-documents-smtp", "optional": True}]
    assert set(SECRET_EXAMPLE["gosmed-documents-smtp"]["stringData"]) == {
        "GOSMED_DOCUMENTS_SMTP_USERNAME",
        "GOSMED_DOCUMENTS_SMTP_PASSWORD",
    }
    assert not {"GOSMED_DOCUMENTS_SMTP_USERNAME", "GOSMED_DOCUMENTS_SMTP_PASSWORD"} & {
        key for config in CONFIG_MAPS.values() for key in config["data"]
    }, "credentials belong in a Secret"


@pytest.mark.parametrize("name", PROCESSES)
def test_k8s_deployment_runs_its_service_safely(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = DEPLOYMENTS[name]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    (container,) = pod["containers"]
    assert container["image"].split(":")[0] == f"gosmed/{name}"
    assert container["command"] == ["python", "-m", f"gosmed.{name}"]
    assert (ROOT / "services" / name / "src" / "gosmed" / name / "__main__.py").is_file()

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    volumes = {volume["name"] for volume in pod.get("volumes", [])}
    assert {mount["name"] for mount in container.get("volumeMounts", [])} <= volumes
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])

    env = pod_env(container)
    cls = settings_class(name)
    assert not unknown_gosmed_names(set(env), env_names(cls))
    settings = load_settings(cls, env, monkeypatch)
    assert settings.queue_type == "quorum"
    assert settings.log_format == "json"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert settings.graceful_timeout < pod["terminationGracePeriodSeconds"]
    if isinstance(settings, ServiceSettings):
        assert settings.mongodb_url
        assert settings.mongodb_database == f"gosmed_{name}"


@pytest.mark.parametrize("name", PROCESSES)
def test_k8s_every_deployment_has_liveness_and_readiness_probes(name: str) -> None:
    """Liveness restarts a wedged process; readiness keeps a pod that cannot work out of the
    Service (edge) and holds a rolling update until the new pods can work."""
    (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert probe in container, f"{name}: no {probe}"


def exec_probe_file(container: dict[str, Any], probe: str) -> PurePosixPath:
    """The heartbeat file an exec probe checks with `python -m gosmed.runtime.health`."""
    assert "httpGet" not in container[probe], "broker services serve no HTTP"
    assert container[probe].get("timeoutSeconds", 1) >= 3, "the probe starts a Python process"
    command = container[probe]["exec"]["command"]
    assert command[:3] == ["python", "-m", "gosmed.runtime.health"]
    (path,) = command[3:]
    return PurePosixPath(path)


@pytest.mark.parametrize("name", BROKER_SERVICES)
def test_k8s_broker_services_are_probed_through_their_heartbeat_files(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    assert "ports" not in container
    settings = k8s_settings(name, monkeypatch)
    assert isinstance(settings, ServiceSettings)
    assert settings.health_dir is not None, f"{name}: no GOSMED_HEALTH_DIR, no heartbeat files"
    health_dir = container_path(settings.health_dir)
    assert exec_probe_file(container, "startupProbe") == health_dir / health.LIVE
    assert exec_probe_file(container, "livenessProbe") == health_dir / health.LIVE
    assert exec_probe_file(container, "readinessProbe") == health_dir / health.READY
    # A healthy process touches `live` every INTERVAL; a probe accepts it up to MAX_AGE old.
    assert health.INTERVAL * 2 <= health.MAX_AGE
    liveness = container["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= health.MAX_AGE


def test_k8s_edge_probes_service_and_disruption_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = DEPLOYMENTS["edge"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    settings = load_settings(EdgeSettings, pod_env(container), monkeypatch)
    assert isinstance(settings, EdgeSettings)
    assert settings.host == "0.0.0.0"

    def probe_target(probe: str) -> tuple[str, int]:
        get = container[probe]["httpGet"]
        port = get["port"]
        return get["path"], ports[port] if isinstance(port, str) else port

    assert probe_target("livenessProbe") == ("/healthz", settings.port)
    assert probe_target("readinessProbe") == ("/readyz", settings.port)

    service = resources_of("Service")["edge"]["spec"]
    assert service.get("type", "ClusterIP") == "ClusterIP"
    assert service["selector"].items() <= labels.items()
    (port,) = service["ports"]
    assert port["port"] == 80
    target = port["targetPort"]
    assert (ports[target] if isinstance(target, str) else target) == settings.port

    budgets = resources_of("PodDisruptionBudget")
    assert "edge" in budgets
    assert budgets["edge"]["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_k8s_disruption_budgets_select_a_deployment() -> None:
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in DEPLOYMENTS.values()]
    for name, budget in resources_of("PodDisruptionBudget").items():
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), name


@pytest.mark.parametrize("name", sorted(ROTATION_KEY_SETTINGS))
def test_no_rotation_is_in_progress_in_the_shipped_manifests(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    field = ROTATION_KEY_SETTINGS[name]
    assert getattr(k8s_settings(name, monkeypatch), field) == []
    compose = load_settings(settings_class(name), compose_env(COMPOSE_SERVICES[name]), monkeypatch)
    assert getattr(compose, field) == []
    variable = f"GOSMED_{name.upper()}_{field.upper()}"
    assert variable in (DEPLOY / "README.md").read_text(), "the rotation is documented"


@pytest.mark.parametrize("name", PROCESSES)
def test_deployments_run_in_production_mode(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production refuses to start identity and documents without their signing keys."""
    assert k8s_settings(name, monkeypatch).env == "production"
    compose = load_settings(settings_class(name), compose_env(COMPOSE_SERVICES[name]), monkeypatch)
    assert compose.env == "production"


def test_deployments_keep_readiness_details_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """`/readyz` is reachable from outside: no versions or store details there."""
    k8s = k8s_settings("edge", monkeypatch)
    compose = load_settings(EdgeSettings, compose_env(COMPOSE_SERVICES["edge"]), monkeypatch)
    for settings in (k8s, compose):
        assert isinstance(settings, EdgeSettings)
        assert settings.readiness_details is False


@pytest.mark.parametrize("name", ["identity", "documents"])
def test_k8s_mail_goes_over_tls(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Login codes and medical documents never cross the network in clear."""
    settings = k8s_settings(name, monkeypatch)
    assert isinstance(settings, IdentitySettings | DocumentsSettings)
    assert settings.smtp_starttls or settings.smtp_implicit_tls
    assert settings.smtp_port == (465 if settings.smtp_implicit_tls else 587)


# --- the broker's users on Kubernetes -------------------------------------------------------


JOBS = resources_of("Job")


def job_container(job: dict[str, Any]) -> dict[str, Any]:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def test_k8s_broker_setup_job_creates_every_process_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(JOBS) == {BROKER_SETUP}
    job = JOBS[BROKER_SETUP]
    pod = job["spec"]["template"]["spec"]
    container = job_container(job)
    assert container["command"] == [*SETUP_COMMAND, "setup"]
    assert container["image"] in {f"gosmed/{name}" for name in PROCESSES}
    assert pod["restartPolicy"] == "OnFailure"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    refs = secret_refs(container)
    assert refs["GOSMED_BROKER_ADMIN_URL"] == (BROKER_SECRET, "admin-url")
    for name in PLATFORM:
        assert refs[password_variable(name)] == (BROKER_SECRET, name)
    env = {}
    for source in container["envFrom"]:
        assert "configMapRef" in source, "the broker's secrets only, by key"
        env.update(CONFIG_MAPS[source["configMapRef"]["name"]]["data"])
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], item["value"])
    assert not unknown_gosmed_names(set(env) | set(refs), SETUP_NAMES | SHARED_NAMES)
    settings = load_settings(BrokerAccessSettings, env, monkeypatch)
    assert isinstance(settings, BrokerAccessSettings)
    assert settings.secrets_file == ""
    assert vhost_of(settings.amqp_url) == VHOST
    assert settings.queue_type == CONFIG_DATA["GOSMED_QUEUE_TYPE"], "as the services declare"


@pytest.mark.parametrize("name", PROCESSES)
def test_k8s_each_deployment_connects_as_its_own_broker_user(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
    refs = secret_refs(container)
    # Its own password only: no key of another process, no admin URL.
    assert {ref for ref in refs.values() if ref[0] == BROKER_SECRET} == {(BROKER_SECRET, name)}
    settings = k8s_settings(name, monkeypatch)
    amqp = urlsplit(settings.amqp_url)
    assert amqp.username == platform_user(VHOST, name)
    assert amqp.password == SECRET_EXAMPLE[BROKER_SECRET]["stringData"][name]
    assert vhost_of(settings.amqp_url) == VHOST
    assert amqp.hostname
    assert amqp.hostname.endswith(".svc.cluster.local")


def test_k8s_clinic_template_adds_or_removes_one_clinic() -> None:
    (job,) = k8s_documents(K8S / "clinic.example.yaml")
    assert job["kind"] == "Job"
    container = job_container(job)
    assert container["command"] == [*SETUP_COMMAND, "clinic", "ACTION", "ORGANIZATION_ID"]
    assert job["metadata"]["name"] == "clinic-ACTION-ORGANIZATION_ID"
    refs = secret_refs(container)
    assert set(refs.values()) == {(BROKER_SECRET, "admin-url"), (BROKER_SECRET, "edge")}
    assert job["spec"]["ttlSecondsAfterFinished"] <= 600, "its log holds the clinic's password"


DATA_KEYS_SECRET = "gosmed-identity-data-keys"


def test_k8s_identity_alone_reads_its_data_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production identity refuses to start without the keys sealing TOTP secrets; no other
    pod gets them."""
    settings = k8s_settings("identity", monkeypatch)
    assert isinstance(settings, IdentitySettings)
    assert settings.data_keys is not None
    for name in PROCESSES:
        (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
        reads = (DATA_KEYS_SECRET, "data-keys") in secret_refs(container).values()
        assert reads == (name == "identity"), name
    assert "openssl rand -base64 32" in (K8S / "secret.example.yaml").read_text()


def test_compose_identity_requires_its_data_keys_file() -> None:
    (entry,) = COMPOSE_SERVICES["identity"]["env_file"]
    assert entry == {"path": "./secrets/identity.env", "required": True}
    for name in PROCESSES:
        if name != "identity":
            files = [f["path"] for f in COMPOSE_SERVICES[name].get("env_file", [])]
            assert "./secrets/identity.env" not in files, name
    assert (
        "GOSMED_IDENTITY_DATA_KEYS=k1:$(openssl rand -base64 32)"
        in (DEPLOY / "README.md").read_text()
    )


RECORDS_KEYS_SECRET = "gosmed-records-data-keys"


def test_k8s_records_alone_reads_its_data_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production records refuses to start without the keys sealing lab results; no other pod
    gets them."""
    settings = k8s_settings("records", monkeypatch)
    assert isinstance(settings, RecordsSettings)
    assert settings.data_keys is not None
    for name in PROCESSES:
        (container,) = DEPLOYMENTS[name]["spec"]["template"]["spec"]["containers"]
        reads = (RECORDS_KEYS_SECRET, "data-keys") in secret_refs(container).values()
        assert reads == (name == "records"), name
    assert RECORDS_KEYS_SECRET in (K8S / "secret.example.yaml").read_text()


def test_compose_records_requires_its_data_keys_file() -> None:
    (entry,) = COMPOSE_SERVICES["records"]["env_file"]
    assert entry == {"path": "./secrets/records.env", "required": True}
    for name in PROCESSES:
        if name != "records":
            files = [f["path"] for f in COMPOSE_SERVICES[name].get("env_file", [])]
            assert "./secrets/records.env" not in files, name
    assert (
        "GOSMED_RECORDS_DATA_KEYS=k1:$(openssl rand -base64 32)"
        in (DEPLOY / "README.md").read_text()
    )
