#!/usr/bin/env bash
# Make sure the local servers the platform needs are running on loopback.
#
#   bash scripts/servers.sh ensure-postgres ensure-rabbitmq ensure-chromium
#   bash scripts/servers.sh ensure-vhost portfolio_test
#
# Each subcommand is idempotent: a server that already answers is left alone; one that is
# installed but stopped is started; a missing one is reported with how to install it (exit 1).
set -euo pipefail

log() { echo "servers: $*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

is_root() { [ "$(id -u)" = 0 ]; }

pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h 127.0.0.1 -p 5432
    else
        port_open 5432
    fi
}

# Debian's default pg_hba.conf asks for a password on 127.0.0.1 and the postgres role has none.
# The platform's loopback defaults use trust auth (as on the machines it is developed on), so a
# freshly installed development/CI cluster gets a loopback-only trust line for `postgres`.
ensure_pg_loopback_trust() {
    if PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
        return 0
    fi
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -1)
    if is_root && [ -n "$hba" ]; then
        log "PostgreSQL refuses passwordless loopback login: adding a loopback trust line for postgres to $hba"
        sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload
        sleep 1
        PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null && return 0
    fi
    log "cannot log in to PostgreSQL as postgres on 127.0.0.1 without a password:"
    log "  allow it in pg_hba.conf (host all postgres 127.0.0.1/32 trust) or set TEST_DATABASE_URL"
    return 1
}

# Each service connects with its own role and pool, and the tests run several stacks side by
# side: Debian's default of 100 connections runs out ("remaining connection slots are
# reserved"). Raise it to 300 on a local cluster we may restart (root, pg_ctlcluster).
ensure_pg_connections() {
    local have
    have=$(psql -h 127.0.0.1 -U postgres -Atc "show max_connections" 2>/dev/null || echo 0)
    [ "${have:-0}" -ge 300 ] && return 0
    if is_root && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        local version
        version=$(ls /etc/postgresql | head -1)
        log "raising PostgreSQL max_connections from $have to 300 (restarts the local cluster)"
        psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = 300"
        pg_ctlcluster --skip-systemctl-redirect "$version" main restart
        for _ in $(seq 1 30); do pg_up && return 0; sleep 1; done
        log "PostgreSQL did not come back within 30 s"
        return 1
    fi
    log "warning: PostgreSQL allows $have connections; the tests want 300 (ALTER SYSTEM SET max_connections = 300)"
}

ensure_postgres() {
    if pg_up; then
        log "PostgreSQL answers on 127.0.0.1:5432"
        ensure_pg_loopback_trust
        ensure_pg_connections
        return
    fi
    if [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
        local version
        version=$(ls /etc/postgresql | head -1)
        log "starting PostgreSQL $version cluster 'main'"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start
        for _ in $(seq 1 30); do
            pg_up && { log "PostgreSQL is up"; ensure_pg_loopback_trust; ensure_pg_connections; return; }
            sleep 1
        done
        log "PostgreSQL $version did not answer on 127.0.0.1:5432 within 30 s"
        return 1
    fi
    log "PostgreSQL is not installed. Install it (as root): apt-get install -y postgresql"
    log "  it must accept the user 'postgres' on 127.0.0.1:5432 (trust auth) or set TEST_DATABASE_URL"
    return 1
}

# The launcher and the tests create one broker user per service and for the gateway
# (portfolio_common/broker_access.py) with `rabbitmqctl import_definitions`, which needs root
# next to the broker, or else through the management API: say so early when neither will work.
check_broker_admin() {
    export PATH=$PATH:/usr/sbin
    if is_root && command -v rabbitmqctl >/dev/null 2>&1; then
        return 0
    fi
    if port_open 15672; then
        return 0
    fi
    log "warning: cannot create the per-service broker users: not root (rabbitmqctl) and no management API"
    log "  run as root, or enable it: rabbitmq-plugins enable rabbitmq_management"
}

# RabbitMQ holds a file descriptor per connection and several per quorum queue (its log
# segments). Started from a shell with the usual soft limit of 1024, a test run's stacks (six
# services, ~100 quorum queues each, several stacks alive at once) use it up: the broker then
# stops accepting connections and new AMQP handshakes hang until a stack goes away. Measured
# here: 910 of 927 descriptors in use, every new handshake timing out.
RABBIT_MIN_FDS=8192
RABBIT_WANT_FDS=65536

rabbit_fd_limit() {
    local pid
    pid=$(pgrep -f 'beam\.smp.* -s rabbit( |$)' 2>/dev/null | head -1 || true)
    [ -n "$pid" ] && [ -r "/proc/$pid/limits" ] || { echo 0; return; }
    awk '/^Max open files/ {print $4}' "/proc/$pid/limits"
}

start_rabbitmq() {
    local hard env_conf=/etc/rabbitmq/rabbitmq-env.conf
    # Debian's rabbitmq-server switches to the rabbitmq user through su, whose PAM session
    # resets the soft limit to 1024; rabbitmq-env.conf is sourced in that user's shell, so the
    # limit is raised there (to the hard limit) for the broker itself.
    if is_root && [ -d /etc/rabbitmq ] && ! grep -qs 'portfolio: open files' "$env_conf"; then
        printf '%s\n' '# portfolio: open files for the test stacks (scripts/servers.sh)' \
            'ulimit -S -n "$(ulimit -H -n)" 2>/dev/null || true' >> "$env_conf"
    fi
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge "$RABBIT_WANT_FDS" ]; then
        ulimit -n "$RABBIT_WANT_FDS" 2>/dev/null || true
    else
        ulimit -n "$hard" 2>/dev/null || true
    fi
    log "starting RabbitMQ (rabbitmq-server -detached, up to $(ulimit -n) open files)"
    rabbitmq-server -detached
}

ensure_rabbitmq() {
    export PATH=$PATH:/usr/sbin
    if port_open 5672; then
        local fds
        fds=$(rabbit_fd_limit)
        if [ "$fds" -gt 0 ] && [ "$fds" -lt "$RABBIT_MIN_FDS" ] && is_root && command -v rabbitmqctl >/dev/null 2>&1; then
            log "RabbitMQ runs with $fds open files at most: too few for the test stacks; restarting it with more"
            rabbitmqctl -q stop >/dev/null 2>&1 || true
            local until=$((SECONDS + 30))
            while port_open 5672 && [ $SECONDS -lt $until ]; do sleep 1; done
        else
            log "RabbitMQ answers on 127.0.0.1:5672"
            check_broker_admin
            return 0
        fi
    fi
    if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
        log "RabbitMQ is not installed. Install it (as root): apt-get install -y rabbitmq-server"
        return 1
    fi
    start_rabbitmq
    # await_startup can fail right after the start (node not registered yet): retry it.
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        if rabbitmqctl -q await_startup >/dev/null 2>&1 && port_open 5672; then
            log "RabbitMQ is up"
            check_broker_admin
            return 0
        fi
        sleep 2
    done
    log "RabbitMQ did not start within 60 s (see /var/log/rabbitmq/)"
    return 1
}

ensure_chromium() {
    # The portal is Chinese: without CJK fonts every screenshot shows empty boxes.
    local pkgs=()
    [ -x /usr/bin/chromium ] || pkgs+=(chromium)
    [ -d /usr/share/fonts/opentype/noto ] || pkgs+=(fonts-noto-cjk)
    if [ ${#pkgs[@]} -eq 0 ]; then
        return 0
    fi
    if is_root && command -v apt-get >/dev/null 2>&1; then
        log "installing ${pkgs[*]} with apt-get (browser tests use /usr/bin/chromium)"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}"
        return 0
    fi
    [ -x /usr/bin/chromium ] && { log "fonts-noto-cjk missing: screenshots will show boxes for Chinese"; return 0; }
    log "Chromium is missing: browser tests need /usr/bin/chromium (as root: apt-get install -y chromium)"
    return 1
}

# ensure-vhost NAME: a RabbitMQ vhost with full permissions for guest (idempotent).
ensure_vhost() {
    local vhost=${1:?ensure-vhost needs a vhost name}
    export PATH=$PATH:/usr/sbin
    if ! command -v rabbitmqctl >/dev/null 2>&1; then
        log "rabbitmqctl not available: not creating vhost '$vhost' (create it on your broker)"
        return 0
    fi
    local existing
    existing=$(rabbitmqctl -q list_vhosts name 2>/dev/null || true)
    if ! grep -qxF "$vhost" <<<"$existing"; then
        log "creating RabbitMQ vhost '$vhost'"
        rabbitmqctl -q add_vhost "$vhost" >/dev/null
    fi
    rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
}

usage() {
    echo "usage: $0 {ensure-postgres|ensure-rabbitmq|ensure-chromium|ensure-vhost NAME}..." >&2
    exit 2
}

[ $# -gt 0 ] || usage
while [ $# -gt 0 ]; do
    case $1 in
        ensure-postgres) ensure_postgres ;;
        ensure-rabbitmq) ensure_rabbitmq ;;
        ensure-chromium) ensure_chromium ;;
        ensure-vhost) [ $# -ge 2 ] || usage; ensure_vhost "$2"; shift ;;
        *) usage ;;
    esac
    shift
done
