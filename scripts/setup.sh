#!/usr/bin/env bash
# Create .venv and install the platform (editable) plus the test/dev tools into it.
#
#   bash scripts/setup.sh
#
# Idempotent: the pip work is skipped while var/.setup-<hash> exists, where the hash covers
# every pyproject.toml that gets installed and requirements-dev.txt. Works as root on a fresh
# Debian 12 machine (installs python3-venv with apt-get when the venv module lacks ensurepip).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=$VENV/bin/python

# --- the Python to build the venv from: 3.11 or newer --------------------------------------
pick_python() {
    local cand
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$cand"
            return 0
        fi
    done
    echo "setup: Python 3.11 or newer is required (apt-get install python3 python3-venv)" >&2
    return 1
}

create_venv() {
    local base
    base=$(pick_python)
    echo "setup: creating .venv with $base ($("$base" --version 2>&1))"
    if ! "$base" -m venv "$VENV" 2>/tmp/setup-venv.$$.err; then
        # Debian ships the venv module without ensurepip unless python3-venv is installed.
        rm -rf "$VENV"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "setup: installing python3-venv with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get update -q
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
            "$base" -m venv "$VENV"
        else
            cat /tmp/setup-venv.$$.err >&2
            rm -f /tmp/setup-venv.$$.err
            echo "setup: cannot create a venv; install python3-venv (as root: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
    rm -f /tmp/setup-venv.$$.err
    # A new venv has none of the packages an old stamp vouches for.
    rm -f "$ROOT"/var/.setup-*
}

# A venv whose interpreter no longer runs (e.g. its base Python was removed) is rebuilt.
if ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$VENV"
    create_venv
fi

# --- browser-test tools from npm (axe-core, injected by Playwright into the portal's pages) --
# Outside the pip stamp: node_modules is checked on every run and installed from the lock file.
if [ -f "$ROOT/package-lock.json" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup: warning: npm is missing (apt-get install nodejs npm); browser accessibility tests need it" >&2
    elif ! cmp -s "$ROOT/package-lock.json" "$ROOT/node_modules/.installed-lock.json" 2>/dev/null; then
        if (cd "$ROOT" && npm ci --no-audit --no-fund --ignore-scripts --silent); then
            cp "$ROOT/package-lock.json" "$ROOT/node_modules/.installed-lock.json"
        else
            echo "setup: warning: npm ci failed; browser accessibility tests need node_modules/axe-core" >&2
        fi
    fi
fi

# --- what gets installed -------------------------------------------------------------------
# portfolio-common with its nameko extra: `python -m portfolio_common.health` needs nameko even
# before any service is installed.
editables=("libs/portfolio-common[nameko]")
hashed=(libs/portfolio-common/pyproject.toml)
for pp in services/*/pyproject.toml gateway/pyproject.toml; do
    [ -f "$pp" ] || continue
    editables+=("$(dirname "$pp")")
    hashed+=("$pp")
done
hashed+=(requirements-dev.txt)

# The stamp hash covers the file names too, so adding a service changes it.
hash=$( (printf '%s\n' "${hashed[@]}"; cat "${hashed[@]}") | sha256sum | cut -c1-16)
stamp=$ROOT/var/.setup-$hash
if [ -f "$stamp" ]; then
    echo "setup: up to date (.venv, $(basename "$stamp"))"
    exit 0
fi

# --- pip work ------------------------------------------------------------------------------
export PIP_DISABLE_PIP_VERSION_CHECK=1
# nameko 2.14.1's CLI imports pkg_resources, which setuptools 81 removed.
"$PY" -m pip install -q --upgrade pip 'setuptools<81' wheel

args=()
for e in "${editables[@]}"; do args+=(-e "$e"); done
echo "setup: installing ${editables[*]} and requirements-dev.txt"
# One pip call, so the resolver sees the local portfolio-common the services depend on.
"$PY" -m pip install -q "${args[@]}" -r requirements-dev.txt

if ! "$PY" -m pip check; then
    echo "setup: warning: 'pip check' reports conflicts (see above)" >&2
fi

mkdir -p "$ROOT/var"
rm -f "$ROOT"/var/.setup-*
touch "$stamp"
echo "setup: done"
