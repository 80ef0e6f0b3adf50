"""A private PostgreSQL cluster for one scenario: initdb into a temporary folder, on a free
port, with pg_stat_statements loaded, so statement counts and server CPU belong to the run
alone and the machine's own server is left untouched. Stopped and removed on the way out,
also when the scenario fails."""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from common import CLK_TCK, free_port, log

DATABASE = "tocsin"
# psql's field separator for rows that hold statement text, which may contain `|`.
SEPARATOR = "\x1f"


def pg_bin(name):
    """A server binary: on the PATH, else where Debian keeps the newest version."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not versions:
        raise RuntimeError(f"{name} not found: install the PostgreSQL server")
    return str(versions[-1])


def as_owner(cmd, cwd):
    """Runs a server command as `postgres` when we are root (initdb refuses root), else as
    ourselves; raises with its output when it fails."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
    return proc


def process_cpu(pid, children=False):
    """utime + stime of a process, plus the CPU of its exited and reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


class Cluster:
    """A running private cluster; `url` names its `tocsin` database."""

    def __init__(self, folder, port):
        self.folder = folder
        self.data = str(Path(folder) / "data")
        self.log = str(Path(folder) / "server.log")
        self.port = port
        self.url = f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"
        self.admin_url = f"postgres://postgres@127.0.0.1:{port}/postgres"

    def psql(self, sql, database_url=None):
        """Rows of one statement, each a list of text fields."""
        proc = subprocess.run(
            ["psql", database_url or self.admin_url, "-X", "-Atq", "-v", "ON_ERROR_STOP=1",
             "-F", SEPARATOR, "-c", sql], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed: {proc.stderr.strip()[:500]}")
        return [line.split(SEPARATOR) for line in proc.stdout.splitlines() if line]

    def value(self, sql, database_url=None):
        """The one value of a one-row, one-column statement, as a float (0 for NULL)."""
        rows = self.psql(sql, database_url)
        return float(rows[0][0]) if rows and rows[0][0] else 0.0

    def postmaster(self):
        """The server's process id, from its pid file."""
        return int(Path(self.data, "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self):
        """CPU of the whole server: the postmaster, its live children (backends, writers,
        autovacuum) and the children already gone (counted in the postmaster's cutime)."""
        parent = self.postmaster()
        total = process_cpu(parent, children=True)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            except (OSError, IndexError, ValueError):
                continue  # it exited while we looked: its time is in cutime by now
        return total

    def stop(self):
        """Stops the server, bluntly if pg_ctl cannot."""
        pidfile = Path(self.data, "postmaster.pid")
        if not pidfile.exists():
            return
        try:
            as_owner([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "30",
                      "stop"], self.folder)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            log(f"pg_ctl stop failed ({error}); killing the postmaster")
            with contextlib.suppress(OSError, ValueError):
                os.kill(self.postmaster(), signal.SIGKILL)


def start(folder):
    """initdb, configure and start a cluster in `folder`; returns it."""
    cluster = Cluster(folder, free_port())
    as_owner([pg_bin("initdb"), "-D", cluster.data, "-U", "postgres", "-A", "trust",
              "--no-sync", "-E", "UTF8", "--locale=C"], folder)
    with open(Path(cluster.data) / "postgresql.conf", "a") as conf:
        conf.write(f"""
# bench/runner/pgcluster.py
port = {cluster.port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{folder}'
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
""")
    as_owner([pg_bin("pg_ctl"), "-D", cluster.data, "-l", cluster.log, "-w", "-t", "60",
              "start"], folder)
    cluster.psql(f"CREATE DATABASE {DATABASE}")
    cluster.psql("CREATE EXTENSION pg_stat_statements")
    return cluster


def _exit_on_term(*_):
    """SIGTERM as SystemExit, so the `finally` that stops the cluster runs."""
    raise SystemExit(143)


@contextlib.contextmanager
def private_postgres():
    """Yields a started Cluster; stops it and removes its folder afterwards, whatever
    happened (SIGTERM included: it becomes SystemExit while the cluster runs)."""
    folder = tempfile.mkdtemp(prefix="bench-pg-")
    previous = signal.signal(signal.SIGTERM, _exit_on_term)
    cluster = None
    try:
        if os.geteuid() == 0:
            os.chmod(folder, 0o755)
            shutil.chown(folder, "postgres", "postgres")
        cluster = Cluster(folder, 0)  # so a failing initdb still gets its folder removed
        cluster = start(folder)
        log(f"private PostgreSQL on port {cluster.port} in {folder}")
        yield cluster
    finally:
        try:
            if cluster is not None:
                cluster.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
            shutil.rmtree(folder, ignore_errors=True)
