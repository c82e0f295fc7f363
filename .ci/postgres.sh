#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite: started in a temporary directory,
# listening only on a Unix socket there (no TCP port), stopped and deleted on exit.
#
#   .ci/postgres.sh make test            # the suite, on PostgreSQL
#   .ci/postgres.sh                      # just a server: prints its URL, waits for Ctrl-C
#
# The command runs with CAREBINDER_TEST_DATABASE_URL set to the server's database (the
# tests' fixtures give each test its own schema in it). PostgreSQL's programs are taken
# from PATH or /usr/lib/postgresql/*/bin; when there are none and this runs as root (CI),
# Debian's `postgresql` package is installed first. PostgreSQL refuses to run as root, so
# as root the server runs as the `postgres` user (made if missing); as anyone else it runs
# as that user. Settings favour speed over durability (fsync off): the data is thrown away.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        # The directory of the real programs (PATH may hold only a few links to them).
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

install_postgres() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        log "PostgreSQL is not installed. Install it (Debian: apt-get install postgresql) and run this again."
        exit 1
    fi
    log "installing PostgreSQL from Debian's packages"
    # Only the programs are wanted: no cluster of the package's own, and no service started.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/carebinder-ci.conf
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

BIN=$(find_bin) || { install_postgres; BIN=$(find_bin); }

# Who runs the server, and how to run a program as them.
if [[ $(id -u) -eq 0 ]]; then
    SERVER_USER=postgres
    if ! id "$SERVER_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVER_USER"
    fi
    as_server() { setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" --init-groups -- "$@"; }
else
    SERVER_USER=$(id -un)
    as_server() { "$@"; }
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/carebinder-pg.XXXXXX")
chmod 700 "$DIR"
[[ $(id -u) -eq 0 ]] && chown "$SERVER_USER:" "$DIR"

stop() {
    status=$?
    if [[ -f "$DIR/data/postmaster.pid" ]]; then
        as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

as_server "$BIN/initdb" -D "$DIR/data" -U carebinder -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start -o \
    "-c listen_addresses='' -c unix_socket_directories='$DIR' -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
as_server "$BIN/createdb" -h "$DIR" -U carebinder carebinder_test

URL="postgresql+psycopg://carebinder@/carebinder_test?host=$DIR"
export CAREBINDER_TEST_DATABASE_URL="$URL"
log "PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') running as $SERVER_USER, socket in $DIR"

if [[ $# -eq 0 ]]; then
    echo "CAREBINDER_TEST_DATABASE_URL=$URL"
    log "press Ctrl-C to stop it"
    # `wait` (unlike a plain `sleep`) returns at once on a signal, so the trap runs then.
    while :; do sleep 3600 & wait $!; done
fi
"$@"
