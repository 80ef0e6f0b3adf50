#!/bin/sh
# Makes this host a streaming standby of the primary: one pg_basebackup, which copies the
# primary's data directory, creates a replication slot for this standby on the primary,
# and (-R) writes standby.signal and primary_conninfo so the server starts as a standby.
#
#   setup-standby.sh --primary-sql   print the SQL to run once on the primary first
#   setup-standby.sh                 as the postgres user on the standby, server stopped
#
# Before: primary.conf and pg_hba.conf installed on the primary (and here: this host
# becomes the primary after a failover), the roles from --primary-sql created, the
# replicator's password in ~postgres/.pgpass on this host (the WAL receiver reads it too,
# so the password stays out of the config files), for example:
#   10.20.0.31:5432:replication:replicator:THE-PASSWORD      (mode 0600)
# Debian: `systemctl stop postgresql@15-main`, move /var/lib/postgresql/15/main aside
# (this script refuses a data directory that is not empty), run it, then
# `systemctl start postgresql@15-main`. The config files stay in /etc/postgresql/15/main:
# pg_basebackup copies the data directory only.
#
# Settings (environment):
#   PRIMARY_HOST  the primary's address                    default db1
#   PRIMARY_PORT                                           default 5432
#   PGDATA        the (empty or missing) data directory    default Debian's /var/lib/postgresql/15/main
#   STANDBY_NAME  this standby's name: its slot on the primary and its application_name
#                 (what synchronous_standby_names and pg_stat_replication show)
#                                                          default the short host name
#   CREATE_SLOT   "no" when the slot already exists on the primary (a rebuild)   default yes
#   PG_BASEBACKUP the program                              default pg_basebackup
set -eu

if [ "${1:-}" = "--primary-sql" ]; then
    cat <<'SQL'
-- Run once on the primary as a superuser (sudo -u postgres psql). Roles and databases are
-- copied to the standby with everything else, so nothing is run there.

-- The standby's connection: replication only, no access to any table.
CREATE ROLE replicator WITH LOGIN REPLICATION;
\password replicator

-- pg_rewind's connection (failover.md): reads the primary's files, nothing else.
CREATE ROLE rewinder WITH LOGIN;
\password rewinder
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO rewinder;

-- tocsin itself: owns its database, creates its tables (migrations) and partitions.
CREATE ROLE tocsin WITH LOGIN;
\password tocsin
CREATE DATABASE tocsin OWNER tocsin;
SQL
    exit 0
fi

PRIMARY_HOST="${PRIMARY_HOST:-db1}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
PGDATA="${PGDATA:-/var/lib/postgresql/15/main}"
STANDBY_NAME="${STANDBY_NAME:-$(hostname -s)}"
CREATE_SLOT="${CREATE_SLOT:-yes}"
PG_BASEBACKUP="${PG_BASEBACKUP:-pg_basebackup}"

# A slot name is lower-case letters, digits and underscores.
SLOT=$(printf '%s' "$STANDBY_NAME" | tr 'A-Z.-' 'a-z__' | tr -cd 'a-z0-9_')

if [ "$(id -u)" = 0 ]; then
    echo "run this as the postgres user (sudo -u postgres $0): the server refuses a data directory owned by root" >&2
    exit 1
fi
if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
    echo "$PGDATA is not empty: stop the server and move it aside first (it is never deleted here)" >&2
    exit 1
fi

# -C -S: create the slot $SLOT on the primary as part of the backup, so no WAL between
#        the backup and the standby's first connection can be recycled.
if [ "$CREATE_SLOT" = yes ]; then
    slot_args="-C -S $SLOT"
else
    slot_args="-S $SLOT"
fi

echo "base backup of $PRIMARY_HOST:$PRIMARY_PORT into $PGDATA, slot $SLOT"
# -X stream:          stream the WAL written during the copy over a second connection, so
#                     the backup is consistent on its own.
# -R:                 write standby.signal and primary_conninfo (and primary_slot_name) to
#                     postgresql.auto.conf: the server starts as a standby of this primary.
# --checkpoint=fast:  start at once instead of waiting for the next scheduled checkpoint.
# application_name:   names this standby on the primary; -R keeps it in primary_conninfo.
# shellcheck disable=SC2086 # slot_args is two or three words on purpose
"$PG_BASEBACKUP" \
    -d "host=$PRIMARY_HOST port=$PRIMARY_PORT user=replicator application_name=$STANDBY_NAME" \
    -D "$PGDATA" \
    -X stream \
    $slot_args \
    -R \
    --checkpoint=fast \
    --progress
chmod 700 "$PGDATA"

echo "done: start the server (Debian: systemctl start postgresql@15-main), then check on the primary:"
echo "  SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication;"
