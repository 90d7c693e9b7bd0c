#!/usr/bin/env bash
# Gives the tests their own RabbitMQ virtual host, so `make test` never consumes the queues of a
# `make run` on the same broker. Needs rabbitmqctl on this machine; with a remote broker, create
# the vhost there and set GOSMED_TEST_AMQP_URL.
set -euo pipefail
VHOST=gosmed-test
if [ -n "${GOSMED_TEST_AMQP_URL:-}" ]; then exit 0; fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! as_root rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx "$VHOST"; then
  as_root rabbitmqctl -q add_vhost "$VHOST"
  as_root rabbitmqctl -q set_permissions -p "$VHOST" guest ".*" ".*" ".*"
fi
# Shared exchanges and one least-privilege user per service (the tests run as them).
GOSMED_AMQP_URL="amqp://guest:guest@127.0.0.1:5672/$VHOST" \
  uv run python -m gosmed.runtime.broker_access setup
