#!/bin/sh
# NOT RUN IN CI (Docker is not available there): docker-compose.yml's first-start script
# for the primary, db1. The official postgres image runs it once, when the data volume is
# empty, with a temporary server on the Unix socket; the real server starts afterwards
# and reads what this adds.
set -eu

# The settings of deploy/postgres/primary.conf (mounted at /etc/tocsin-postgres).
echo "include '/etc/tocsin-postgres/primary.conf'" >> "$PGDATA/postgresql.conf"
# The lines of deploy/postgres/pg_hba.conf: the compose network uses the same addresses.
cat /etc/tocsin-postgres/pg_hba.conf >> "$PGDATA/pg_hba.conf"

# The roles of `setup-standby.sh --primary-sql`, with passwords from the environment.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v replicator_pw="$REPLICATOR_PASSWORD" -v tocsin_pw="$TOCSIN_DB_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'replicator_pw';
CREATE ROLE rewinder WITH LOGIN PASSWORD :'replicator_pw';
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO rewinder;
CREATE ROLE tocsin WITH LOGIN PASSWORD :'tocsin_pw';
CREATE DATABASE tocsin OWNER tocsin;
SQL
