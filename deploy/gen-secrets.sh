#!/usr/bin/env bash
# Writes what docker-compose.yml reads: the .env (random secrets, mode 600) and, beside it, the
# secrets/ folder (mode 700): the broker's TLS certificate and key, its CA certificate (what
# every client verifies the broker with), the broker's definitions (one user per service
# and for the gateway, least privilege, passwords from .env; portfolio_common/broker_access.py),
# and the caller signing keys: one Ed25519 private key per issuer (<issuer>-signing.key) and
# their public keys (caller-public-keys.json, a JWKS whose kid is the issuer). Compose mounts
# each private key only into its own container (portfolio_common/trust.py).
#
# Never changes a value that exists (rotating a key is a deliberate act: delete or edit its
# line, or delete the file, and recreate the containers). On an existing deployment it adds
# only what is missing, so the same command upgrades an older .env.
#
#   bash deploy/gen-secrets.sh              # writes <repo root>/.env and <repo root>/secrets/
#   ENV_FILE=/tmp/x.env bash deploy/gen-secrets.sh            (secrets/ then beside it)
#   SECRETS_DIR=/srv/portfolio-secrets bash deploy/gen-secrets.sh
#
# Needs bash, od, openssl (1.1.1 or later). Never commit .env or secrets/.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_file="${ENV_FILE:-$repo_root/.env}"
secrets_dir="${SECRETS_DIR:-$(dirname "$env_file")/secrets}"
template="$repo_root/deploy/rabbitmq/definitions.json.template"

SERVICES=(accounts records files certification submission)
BROKER_PRINCIPALS=(accounts records certification submission files gateway)
# The issuers of caller tokens (portfolio_common.trust.ISSUERS).
ISSUERS=(gateway ops accounts records certification submission files)

# rand_hex N: N random bytes as 2N lowercase hex characters.
rand_hex() {
    od -An -v -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# x25519_pair: "<private hex> <public hex>" of a new X25519 key (raw 32 bytes each, as PyNaCl takes them).
x25519_pair() {
    local pem
    pem="$(openssl genpkey -algorithm X25519 2>/dev/null)"
    printf '%s %s\n' \
        "$(printf '%s\n' "$pem" | openssl pkey -outform DER 2>/dev/null | tail -c 32 | od -An -v -tx1 | tr -d ' \n')" \
        "$(printf '%s\n' "$pem" | openssl pkey -pubout -outform DER 2>/dev/null | tail -c 32 | od -An -v -tx1 | tr -d ' \n')"
}

# rabbit_hash PASSWORD: RabbitMQ's rabbit_password_hashing_sha256, base64(salt + sha256(salt + password)).
rabbit_hash() {
    local salt_hex salt_esc
    salt_hex="$(rand_hex 4)"
    salt_esc="$(printf '%s' "$salt_hex" | sed 's/../\\x&/g')"
    { printf "$salt_esc"; { printf "$salt_esc"; printf '%s' "$1"; } | openssl dgst -sha256 -binary; } \
        | openssl base64 -A
}

umask 077
declare -A have=()
if [[ -e "$env_file" ]]; then
    while IFS='=' read -r key value; do
        [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] && have[$key]="$value"
    done <"$env_file"
fi

# name=value lines for what is missing, in this order, with a comment for each group.
lines=()
add() {  # add NAME VALUE
    [[ -n "${have[$1]+x}" ]] && return 0
    have[$1]="$2"
    lines+=("$1=$2")
}
note() { lines+=("# $1"); }

note "records issues upload tickets, files verifies them."
add TICKET_KEY "$(rand_hex 32)"
note "records derives the national-ID encryption and lookup keys from it. Losing it loses the IDs."
add NATIONAL_ID_KEY "$(rand_hex 32)"
note "gateway session cookies."
add GATEWAY_SECRET_KEY "$(rand_hex 32)"
note "MinIO root credentials (for minio-init and operators, not the services). MinIO caps the access key at 20 characters and the secret key at 40."
add MINIO_ROOT_USER "$(rand_hex 8)"
add MINIO_ROOT_PASSWORD "$(rand_hex 20)"
note "The files service's own MinIO user, limited to its buckets (minio-init creates it)."
add FILES_S3_ACCESS_KEY "files$(rand_hex 6)"
add FILES_S3_SECRET_KEY "$(rand_hex 20)"
note "files signs its short-lived download links; Prometheus scrapes its /metrics with this token."
add FILES_LINK_KEY "$(rand_hex 32)"
add FILES_METRICS_TOKEN "$(rand_hex 24)"
note "PostgreSQL superuser: used only by the postgres container and the migrate one-shot."
add POSTGRES_PASSWORD "$(rand_hex 24)"
note "Per service: the role it runs as (row rights only) and the role that owns its database and migrates it."
for s in "${SERVICES[@]}"; do
    add "PG_${s^^}_PASSWORD" "$(rand_hex 24)"
    add "PG_${s^^}_OWNER_PASSWORD" "$(rand_hex 24)"
done
note "RabbitMQ: the vhost's administrator (user portfolio-admin: migrate one-shot, ops tools, demo loader)."
add RABBITMQ_ADMIN_PASSWORD "$(rand_hex 24)"
note "RabbitMQ: one user per service and for the gateway (portfolio-<name>), least privilege."
for p in "${BROKER_PRINCIPALS[@]}"; do
    add "${p^^}_AMQP_PASSWORD" "$(rand_hex 24)"
done
note "X25519 keys: accounts, records and submission open the RPCs that carry passwords and national IDs; callers seal to the public keys."
for s in accounts records submission; do
    if [[ -z "${have[${s^^}_SEAL_KEY]+x}" ]]; then
        read -r private public < <(x25519_pair)
        add "${s^^}_SEAL_KEY" "$private"
        add "${s^^}_SEAL_PUBLIC_KEY" "$public"
    fi
done

# --------------------------------------------------------------------------- .env
if [[ ! -e "$env_file" ]]; then
    tmp="$(mktemp "${env_file}.XXXXXX")"
    trap 'rm -f "$tmp"' EXIT
    {
        echo "# Written by deploy/gen-secrets.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ). Private: never commit."
        printf '%s\n' "${lines[@]}"
    } >"$tmp"
    chmod 600 "$tmp"
    # ln fails when the target exists, so a file created meanwhile is never overwritten.
    if ln "$tmp" "$env_file" 2>/dev/null; then
        echo "gen-secrets: wrote $env_file"
    else
        echo "gen-secrets: $env_file exists, left unchanged" >&2
        exit 0
    fi
    rm -f "$tmp"
    trap - EXIT
elif printf '%s\n' "${lines[@]}" | grep -q '^[A-Z]'; then
    {
        echo "# Added by deploy/gen-secrets.sh at $(date -u +%Y-%m-%dT%H:%M:%SZ)."
        printf '%s\n' "${lines[@]}"
    } >>"$env_file"
    echo "gen-secrets: added the missing values to $env_file"
else
    echo "gen-secrets: $env_file exists, left unchanged" >&2
fi

# --------------------------------------------------------------------------- secrets/
# The folder is private (700); the files in it are world-readable (644) only so that the
# containers' own users (rabbitmq, app) can read the bind-mounted copies. The CA's key is not
# kept: re-issue everything by deleting the folder.
mkdir -p "$secrets_dir"
chmod 700 "$secrets_dir"
if [[ ! -e "$secrets_dir/amqp-ca.crt" || ! -e "$secrets_dir/rabbitmq.crt" || ! -e "$secrets_dir/rabbitmq.key" ]]; then
    work="$(mktemp -d)"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=portfolio AMQP CA" -keyout "$work/ca.key" -out "$work/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=rabbitmq" \
        -keyout "$work/rabbitmq.key" -out "$work/rabbitmq.csr" 2>/dev/null
    printf 'subjectAltName=DNS:rabbitmq,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$work/ext"
    openssl x509 -req -in "$work/rabbitmq.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
        -days 825 -extfile "$work/ext" -out "$work/rabbitmq.crt" 2>/dev/null
    install -m 644 "$work/ca.crt" "$secrets_dir/amqp-ca.crt"
    install -m 644 "$work/rabbitmq.crt" "$secrets_dir/rabbitmq.crt"
    install -m 644 "$work/rabbitmq.key" "$secrets_dir/rabbitmq.key"
    rm -rf "$work"
    echo "gen-secrets: wrote the broker's TLS certificate and its CA to $secrets_dir"
fi
if [[ ! -e "$secrets_dir/rabbitmq-definitions.json" ]]; then
    defs="$(cat "$template")"
    for p in "${BROKER_PRINCIPALS[@]}" admin; do
        var="${p^^}_AMQP_PASSWORD"
        [[ "$p" == admin ]] && var=RABBITMQ_ADMIN_PASSWORD
        defs="${defs//@${var}_HASH@/$(rabbit_hash "${have[$var]}")}"
    done
    printf '%s\n' "$defs" >"$secrets_dir/rabbitmq-definitions.json"
    chmod 644 "$secrets_dir/rabbitmq-definitions.json"
    echo "gen-secrets: wrote the broker's users and permissions to $secrets_dir/rabbitmq-definitions.json"
fi
# Caller signing keys: what is missing is made; the public keys are written again whenever a
# private key was, so they always match.
made_key=
for issuer in "${ISSUERS[@]}"; do
    key="$secrets_dir/$issuer-signing.key"
    if [[ ! -e "$key" ]]; then
        openssl genpkey -algorithm ed25519 -out "$key.tmp" 2>/dev/null
        chmod 644 "$key.tmp"
        mv "$key.tmp" "$key"
        made_key=1
    fi
done
if [[ -n "$made_key" || ! -e "$secrets_dir/caller-public-keys.json" ]]; then
    jwks=""
    for issuer in "${ISSUERS[@]}"; do
        # The raw 32-byte public key is the tail of its DER form; a JWK carries it base64url.
        x="$(openssl pkey -in "$secrets_dir/$issuer-signing.key" -pubout -outform DER 2>/dev/null \
            | tail -c 32 | openssl base64 -A | tr '+/' '-_' | tr -d '=')"
        jwks+="${jwks:+,}{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"$x\",\"kid\":\"$issuer\",\"alg\":\"EdDSA\",\"use\":\"sig\"}"
    done
    printf '{"keys":[%s]}\n' "$jwks" >"$secrets_dir/caller-public-keys.json"
    chmod 644 "$secrets_dir/caller-public-keys.json"
    echo "gen-secrets: wrote the caller signing keys and their public keys to $secrets_dir"
fi
