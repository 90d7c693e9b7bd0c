#!/usr/bin/env bash
# Installs what gosmed needs on a Debian/Ubuntu machine, skipping whatever is already there:
# uv, the system libraries WeasyPrint renders with, Cyrillic fonts, poppler-utils (pdftotext for
# the tests), RabbitMQ when none is reachable, and the Python environment (uv sync).
set -euo pipefail
cd "$(dirname "$0")/../.."

AMQP_HOST=127.0.0.1
AMQP_PORT=5672
SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core fonts-liberation poppler-utils)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
  command -v apt-get >/dev/null || { echo "bootstrap: no apt-get; install $* yourself" >&2; return 1; }
  if [ -z "${GOSMED_APT_UPDATED:-}" ]; then as_root apt-get update -qq; export GOSMED_APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

if ! command -v uv >/dev/null; then
  echo "bootstrap: installing uv" >&2
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

broker_up() { (exec 3<>"/dev/tcp/$AMQP_HOST/$AMQP_PORT") 2>/dev/null; }
if [ "${GOSMED_BOOTSTRAP_BROKER:-1}" = 1 ] && ! broker_up; then
  if ! command -v rabbitmq-server >/dev/null; then
    echo "bootstrap: installing rabbitmq-server" >&2
    apt_install rabbitmq-server
  fi
  echo "bootstrap: starting RabbitMQ" >&2
  as_root rabbitmq-server -detached || true
  for _ in $(seq 1 90); do broker_up && break; sleep 1; done
  broker_up || { echo "bootstrap: RabbitMQ did not start on $AMQP_HOST:$AMQP_PORT" >&2; exit 1; }
  as_root rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
# gosmed creates its broker users through the management API (gosmed.runtime.broker_access).
if [ "${GOSMED_BOOTSTRAP_BROKER:-1}" = 1 ] && command -v rabbitmq-plugins >/dev/null \
  && ! as_root rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
  echo "bootstrap: enabling rabbitmq_management" >&2
  as_root rabbitmq-plugins enable rabbitmq_management >/dev/null
fi

uv sync --frozen --quiet
