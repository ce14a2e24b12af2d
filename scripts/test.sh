#!/usr/bin/env bash
# Run the test suite against local servers.
#
#   bash scripts/test.sh [pytest args...]      (make test ARGS="-k upload")
#
# Servers come from TEST_DATABASE_URL / TEST_AMQP_URI when set (CI, another machine); on
# loopback they are started here if installed. CI=true is passed through: with it, a missing
# server or browser must fail the run, never skip it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
servers=scripts/servers.sh

on_loopback() { case $1 in *@127.0.0.1[:/]*|*@localhost[:/]*) return 0 ;; *) return 1 ;; esac; }

if on_loopback "${TEST_DATABASE_URL:-@127.0.0.1:5432}"; then
    bash "$servers" ensure-postgres
fi
if [ -z "${TEST_AMQP_URI:-}" ]; then
    bash "$servers" ensure-rabbitmq ensure-vhost portfolio_test
elif on_loopback "$TEST_AMQP_URI"; then
    bash "$servers" ensure-rabbitmq
fi
if ! bash "$servers" ensure-chromium; then
    if [ "${CI:-}" = true ]; then
        echo "test: CI=true and Chromium is missing: failing" >&2
        exit 1
    fi
    echo "test: warning: no Chromium, browser tests will not run" >&2
fi

export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/postgres}
export TEST_AMQP_URI=${TEST_AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/portfolio_test}
if [ -n "${CI+x}" ]; then export CI; fi

# Not exec'd: pytest's exit code 5 ("no tests collected") must turn into a failure.
rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "test: pytest collected no tests (exit 5): failing, a run that tests nothing is not green" >&2
    exit 1
fi
exit "$rc"
