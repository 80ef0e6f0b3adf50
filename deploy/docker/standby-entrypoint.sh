#!/bin/sh
# NOT RUN IN CI (Docker is not available there): docker-compose.yml's entrypoint for the
# standby, db2. On the first start (empty volume) it waits for db1 and makes this server
# its standby with deploy/postgres/setup-standby.sh (pg_basebackup -R with a slot); then,
# and on every later start, it hands over to the image's own entrypoint, which finds a
# data directory and just starts PostgreSQL (as a standby, since standby.signal is there;
# as a primary once promoted).
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    # db1 listens on TCP only once its first-start scripts are done.
    until pg_isready -q -h db1 -p 5432; do sleep 1; done
    gosu postgres env PGPASSWORD="$REPLICATOR_PASSWORD" PRIMARY_HOST=db1 STANDBY_NAME=db2 \
        PGDATA="$PGDATA" /etc/tocsin-postgres/setup-standby.sh
fi
exec docker-entrypoint.sh postgres
