#!/bin/sh
# Entrypoint of the local Postgres image (base-images.sh): what docker-compose.yml asks of the
# official postgres image. POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB make the cluster and
# its database on the first start (an empty data directory); `postgres -c ...` runs the server
# as the postgres user, listening on the container's network with password (SCRAM) logins.
set -eu
bin=/usr/lib/postgresql/15/bin
data=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
[ "${1:-}" = postgres ] && shift
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
    password=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password"
    chown postgres "$password"
    as_postgres "$bin/initdb" -D "$data" -U "$user" --pwfile="$password" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$password"
    echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
    if [ "${POSTGRES_DB:-$user}" != postgres ]; then
        echo "CREATE DATABASE \"${POSTGRES_DB:-$user}\" OWNER \"$user\"" |
            as_postgres "$bin/postgres" --single -D "$data" -j postgres >/dev/null
    fi
    echo "postgres: initialised $data"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups \
    "$bin/postgres" -D "$data" -c listen_addresses='*' "$@"
