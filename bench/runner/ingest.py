"""Ingest: results per second through tocsin's batch writer into SQLite and PostgreSQL, and
PostgreSQL's own ceiling in the same run: `\\copy` of as many rows into a similar table."""

import os
import random
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from common import RUNS, env_int, log, median_dicts, ratio, run_tools

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"

# The shape of tocsin's `results` (migrations/postgres V2 and V8): the same columns, the
# same primary key and the same second index (by time, for retention), so the ceiling pays
# for every index tocsin's insert pays for. Not partitioned: the rows fall in one or two
# days, and a day's partition has this very shape.
COPY_TABLE = """CREATE TABLE copy_results (
    monitor_id bigint NOT NULL, checked_at timestamptz NOT NULL, ok boolean NOT NULL,
    status_code integer, latency_us bigint NOT NULL, dns_us bigint, connect_us bigint,
    tls_us bigint, ttfb_us bigint, error_kind text, error_message text,
    cert_expires_at timestamptz, check_kind text NOT NULL DEFAULT 'http', dns_rcode text,
    dns_answer text, PRIMARY KEY (monitor_id, checked_at))"""
COPY_INDEX = "CREATE INDEX copy_results_by_time ON copy_results (checked_at, monitor_id)"


def with_database(url, name):
    """`url` pointing at database `name` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def psql(url, *args, check=True):
    """Runs psql quietly; returns the completed process."""
    return subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
                          capture_output=True, text=True, check=check)


def postgres_available(url):
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        proc = psql(url, "-Atc", "SELECT 1", check=False)
    except FileNotFoundError:
        return "psql is not installed"
    if proc.returncode != 0:
        return f"{url} does not answer: {proc.stderr.strip()[:200]}"
    return None


def write_csv(path, rows, monitors):
    """The same shape of rows as the ingest tool makes, as CSV for \\copy."""
    start = time.time() - 3600
    with open(path, "w") as f:
        for i in range(rows):
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + i // monitors))
            if random.random() < 0.01:
                f.write(f"{i % monitors + 1},{at}+00,false,,250,,250,,,connect,"
                        "connection refused by 127.0.0.1:9,,http,,\n")
            else:
                f.write(f"{i % monitors + 1},{at}+00,true,200,1200,,250,,900,,,,http,,\n")


def copy_ceiling(url, csv_path):
    """Seconds for one \\copy of the CSV into a fresh table, as psql's client sees it."""
    psql(url, "-c", "DROP TABLE IF EXISTS copy_results", "-c", COPY_TABLE, "-c", COPY_INDEX)
    started = time.monotonic()
    psql(url, "-c", f"\\copy copy_results FROM '{csv_path}' WITH (FORMAT csv)")
    return time.monotonic() - started


def sqlite_runs(results, batch, deep, work):
    """The batch writer into a fresh SQLite file, RUNS times."""
    runs = []
    for n in range(RUNS):
        path = Path(work) / f"ingest-{n}.db"
        log(f"ingest: SQLite run {n + 1}/{RUNS}, {results} results")
        _, report, _ = run_tools("ingest", "--database-url", f"sqlite://{path}",
                                 "--results", results, "--batch", batch,
                                 "--deep-batch", deep)
        runs.append(report)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return median_dicts(runs)


def postgres_runs(results, batch, deep, work):
    """The batch writer and \\copy into fresh databases, side by side, RUNS times."""
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
    why = postgres_available(base)
    if why:
        return {"skipped": why}
    csv_path = Path(work) / "rows.csv"
    write_csv(csv_path, results, 1000)
    tocsin_runs, copy_runs, skipped = [], [], None
    for n in range(RUNS):
        name = f"tocsin_bench_{os.getpid()}_{n}"
        psql(base, "-c", f"CREATE DATABASE {name}")
        try:
            url = with_database(base, name)
            log(f"ingest: PostgreSQL run {n + 1}/{RUNS}")
            if skipped is None:
                code, report, _ = run_tools("ingest", "--database-url", url,
                                            "--results", results, "--batch", batch,
                                            "--deep-batch", deep)
                if code == 3:
                    skipped = report.get("skipped", "the build refused the URL")
                else:
                    tocsin_runs.append(report)
            seconds = copy_ceiling(url, csv_path)
            copy_runs.append({"seconds": seconds, "results_per_s": results / seconds})
        finally:
            psql(base, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", check=False)
    out = {"copy": median_dicts(copy_runs)}
    if skipped:
        out["tocsin_skipped"] = skipped
    else:
        out["tocsin"] = median_dicts(tocsin_runs)
        out["ratio_to_copy"] = ratio(out["tocsin"]["results_per_s"],
                                     out["copy"]["results_per_s"])
    return out


def run():
    """Runs the ingest scenario; returns its results."""
    results = env_int("BENCH_INGEST_RESULTS", 500_000, 20_000)
    batch = env_int("BENCH_INGEST_BATCH", 1000)
    # 0 keeps batches at BENCH_INGEST_BATCH whatever the backlog.
    deep = env_int("BENCH_INGEST_DEEP_BATCH", 10000)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as work:
        return {
            "results": results,
            "batch": batch,
            "deep_batch": max(deep, batch),
            "sqlite": sqlite_runs(results, batch, deep, work),
            "postgres": postgres_runs(results, batch, deep, work),
        }
