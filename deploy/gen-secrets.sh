#!/usr/bin/env bash
# Writes the .env that docker-compose.yml reads: random hex secrets, file mode 600.
# Does nothing when the file already exists (rotating a key is a deliberate act: delete the
# file, or edit one line, and recreate the containers).
#
#   bash deploy/gen-secrets.sh              # writes <repo root>/.env
#   ENV_FILE=/tmp/x.env bash deploy/gen-secrets.sh
#
# Never commit the .env file.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_file="${ENV_FILE:-$repo_root/.env}"

if [[ -e "$env_file" ]]; then
    echo "gen-secrets: $env_file exists, left unchanged" >&2
    exit 0
fi

# rand_hex N: N random bytes as 2N lowercase hex characters.
rand_hex() {
    od -An -v -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

umask 077
tmp="$(mktemp "${env_file}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

{
    echo "# Written by deploy/gen-secrets.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ). Private: never commit."
    # Signs the verified caller the gateway forwards to every service.
    echo "CALLER_KEY=$(rand_hex 32)"
    # records issues upload tickets, files verifies them.
    echo "TICKET_KEY=$(rand_hex 32)"
    # records derives the national-ID encryption and lookup keys from it. Losing it loses the IDs.
    echo "NATIONAL_ID_KEY=$(rand_hex 32)"
    # gateway session cookies.
    echo "GATEWAY_SECRET_KEY=$(rand_hex 32)"
    # MinIO root credentials (also the files service's S3 keys). MinIO caps the access key
    # at 20 characters and the secret key at 40.
    echo "MINIO_ROOT_USER=$(rand_hex 8)"
    echo "MINIO_ROOT_PASSWORD=$(rand_hex 20)"
    echo "POSTGRES_PASSWORD=$(rand_hex 24)"
    # RabbitMQ's default user (instead of guest); AMQP_URI is built from these.
    echo "RABBITMQ_DEFAULT_USER=portfolio"
    echo "RABBITMQ_DEFAULT_PASS=$(rand_hex 24)"
} >"$tmp"
chmod 600 "$tmp"

# ln fails when the target exists, so a file created meanwhile is never overwritten.
if ln "$tmp" "$env_file" 2>/dev/null; then
    echo "gen-secrets: wrote $env_file"
else
    echo "gen-secrets: $env_file exists, left unchanged" >&2
fi
