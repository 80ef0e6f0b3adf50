"""A million monitors (issue 17, item 3): 1,000,000 monitors every hour (278 checks/s) of the
local nginx, on SQLite and on PostgreSQL (a private cluster, for pg_stat_statements). Seeded
once per backend in bulk (`seed-monitors --bulk`); then cold start, memory per monitor,
lateness over a window, the claim statement's cost, the database's size per monitor, the
paged API list and the dashboard list, all at that size."""

import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import (LUA, RUNS, TOCSIN, Tocsin, cpu_seconds, env_int, env_list, histogram_delta,
                    histogram_max, histogram_quantile, log, median, metric_sum, nginx, rss_kib,
                    run_tools, wrk)
from engine import LATENESS
from pgcluster import DATABASE, private_postgres
from web import app_login

# The claim's read on SQLite, as src/store/sqlite/scheduling.rs runs it (`DUE`).
SQLITE_DUE = ("SELECT id, next_check_at FROM monitors WHERE paused = 0 "
              "AND next_check_at <= ? ORDER BY next_check_at, id LIMIT ?")
# The scheduler's defaults (src/scheduler/mod.rs): a claim every 0.5 s, 1 s ahead, ≤ 1000.
CLAIM_HORIZON_MS, CLAIM_BATCH = 1000, 1000


def cold_start(db):
    """Milliseconds from exec to the first 200 of /healthz (polled every 2 ms); the
    server is stopped again."""
    server = Tocsin(db)
    server.log = tempfile.TemporaryFile()
    started = time.monotonic()
    server.proc = subprocess.Popen([str(TOCSIN), "serve"], env=server.env,
                                   stdout=server.log, stderr=subprocess.STDOUT)
    try:
        while time.monotonic() - started < 300:
            try:
                with urllib.request.urlopen(server.base + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return (time.monotonic() - started) * 1000
            except (urllib.error.URLError, ConnectionError):
                pass
            if server.proc.poll() is not None:
                raise RuntimeError("tocsin exited during start-up")
            time.sleep(0.002)
        raise RuntimeError("no /healthz 200 within 300 s")
    finally:
        server.__exit__(None, None, None)


def window(server, seconds, cluster):
    """The load over `seconds`: checks/s, lateness, skipped and failed checks, CPU; on
    PostgreSQL the statements of the window (pg_stat_statements, reset at its start)."""
    if cluster:
        cluster.psql("SELECT pg_stat_statements_reset()")
    before, cpu0, t0 = server.metrics(), cpu_seconds(server.pid), time.monotonic()
    time.sleep(seconds)
    after, cpu1, t1 = server.metrics(), cpu_seconds(server.pid), time.monotonic()
    checks = metric_sum(after, "tocsin_checks_total") - metric_sum(before, "tocsin_checks_total")
    ok_key = ("tocsin_checks_total", '{outcome="ok"}')
    ok = after.get(ok_key, 0) - before.get(ok_key, 0)
    delta = lambda name: metric_sum(after, name) - metric_sum(before, name)  # noqa: E731
    buckets = histogram_delta(before, after, LATENESS)
    ms = lambda s: None if s is None else s * 1000  # noqa: E731
    return {
        "checks_per_s": checks / (t1 - t0),
        "failed_checks": checks - ok,
        "skipped": delta("tocsin_checks_skipped_total"),
        "starved": delta("tocsin_checks_starved_total"),
        "lateness_p50_ms": ms(histogram_quantile(buckets, 0.50)),
        "lateness_p99_ms": ms(histogram_quantile(buckets, 0.99)),
        "lateness_max_ms": ms(histogram_max(buckets)),
        "cpu_ms_per_check": 1000 * (cpu1 - cpu0) / checks if checks else None,
    }


def pg_claim(cluster):
    """The claim statement's calls, rows per call and time, from pg_stat_statements."""
    rows = cluster.psql(
        "SELECT calls, rows, mean_exec_time, stddev_exec_time, max_exec_time "
        "FROM pg_stat_statements WHERE query LIKE 'UPDATE monitors SET next_check_at%' "
        "AND query LIKE '%FOR UPDATE OF m SKIP LOCKED%' "
        f"AND dbid = (SELECT oid FROM pg_database WHERE datname = '{DATABASE}') "
        "ORDER BY calls DESC LIMIT 1")
    if not rows:
        return None
    calls, count, mean, stddev, top = (float(v) for v in rows[0])
    return {"calls": calls, "rows_per_call": count / calls if calls else None,
            "mean_ms": mean, "stddev_ms": stddev, "max_ms": top,
            "source": "pg_stat_statements over the window (the whole UPDATE … RETURNING)"}


def sqlite_claim(path):
    """The claim's read (its `DUE` SELECT), timed 200 times on the live file from Python
    (WAL: beside the server's writes), with its query plan."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        plan = " / ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {SQLITE_DUE}",
                                                          (0, 0)))
        times, rows = [], []
        for _ in range(200):
            until = int(time.time() * 1000) + CLAIM_HORIZON_MS
            started = time.perf_counter()
            rows.append(len(conn.execute(SQLITE_DUE, (until, CLAIM_BATCH)).fetchall()))
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)
        times.sort()
        return {"calls": len(times), "rows_per_call": sum(rows) / len(rows),
                "mean_ms": sum(times) / len(times), "p99_ms": times[int(0.99 * len(times))],
                "max_ms": times[-1], "plan": plan,
                "source": "the claim's SELECT timed from Python on the live file"}
    finally:
        conn.close()


def timed_get(server, path, seconds, token=None, cookie=None):
    """Median of RUNS wrk runs of GET `path` on one connection."""
    headers = (f"Cookie: {cookie}",) if cookie else ()
    runs = [wrk(server.base, seconds, 1, script=LUA / "get.lua", headers=headers,
                env={"BENCH_PATH": path, "BENCH_TOKEN": token or "none"})
            for _ in range(RUNS)]
    return {key: median([r[key] for r in runs]) for key in ("req_per_s", "p50_ms", "p99_ms")}


def database_bytes(db, cluster):
    """The database's size on disk: the SQLite file with its WAL, or pg_database_size."""
    if cluster:
        return cluster.value("SELECT pg_database_size(current_database())", cluster.url)
    path = Path(db.removeprefix("sqlite://"))
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def backend(name, db, url, cluster, settings):
    """Everything measured on one backend's database."""
    count, interval, per_user, seconds, warmup, get_secs = settings
    out = {"backend": name}
    log(f"million/{name}: idle RSS of an empty database")
    with Tocsin(db) as server:
        time.sleep(3)
        empty_rss = rss_kib(server.pid)
    log(f"million/{name}: seeding {count} monitors in bulk")
    _, seeded, _ = run_tools("seed-monitors", "--bulk", "--database-url", db, "--count", count,
                             "--interval-secs", interval, "--url", url, "--per-user", per_user)
    out["seed"] = seeded
    out["database_bytes"] = database_bytes(db, cluster)
    out["database_bytes_per_monitor"] = out["database_bytes"] / count
    log(f"million/{name}: cold starts")
    out["cold_start_ms"] = [cold_start(db) for _ in range(max(RUNS, 1))]
    out["cold_start_median_ms"] = median(out["cold_start_ms"])
    log(f"million/{name}: {warmup} s warm-up, {seconds} s window")
    with Tocsin(db) as server:
        time.sleep(warmup)
        out["window"] = window(server, seconds, cluster)
        rss = rss_kib(server.pid)
        out["rss_mib"] = rss / 1024
        out["empty_rss_mib"] = empty_rss / 1024
        out["rss_bytes_per_monitor"] = (rss - empty_rss) * 1024 / count
        out["claim"] = pg_claim(cluster) if cluster else sqlite_claim(db.removeprefix("sqlite://"))
        token = server.login(seeded["email"], seeded["password"])
        first, owned = seeded["first_id"], min(per_user or count, count)
        deep = first + owned - 101
        log(f"million/{name}: GET /api/v1/monitors, /app")
        out["api"] = {
            "owned": owned,
            "first_page": timed_get(server, "/api/v1/monitors?limit=100", get_secs, token),
            "deep_page": timed_get(server, f"/api/v1/monitors?limit=100&after={deep}",
                                   get_secs, token),
            "all": timed_get(server, "/api/v1/monitors", get_secs, token),
        }
        try:
            cookie = app_login(server, seeded["email"], seeded["password"])
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            cookie = None
        out["dashboard"] = (timed_get(server, "/app", get_secs, cookie=cookie) if cookie
                            else {"skipped": "this build serves no /app session"})
    return out


def run():
    """Runs the million scenario on each backend of BENCH_MILLION_BACKENDS."""
    count = env_int("BENCH_MILLION_MONITORS", 1_000_000, 20_000)
    interval = env_int("BENCH_MILLION_INTERVAL", 3600)
    per_user = env_int("BENCH_MONITORS_PER_USER", 1000)
    seconds = env_int("BENCH_MILLION_SECS", 60, 15)
    warmup = env_int("BENCH_MILLION_WARMUP", 20, 5)
    get_secs = env_int("BENCH_MILLION_GET_SECS", 5, 2)
    settings = (count, interval, per_user, seconds, warmup, get_secs)
    out = {"monitors": count, "interval_s": interval, "per_user": per_user,
           "target_checks_per_s": count / interval, "duration_s": seconds, "warmup_s": warmup,
           "backends": {}}
    with nginx() as url:
        for name in env_list("BENCH_MILLION_BACKENDS", "sqlite postgres"):
            started = time.monotonic()
            if name == "sqlite":
                with tempfile.TemporaryDirectory(prefix="bench-million-") as work:
                    db = f"sqlite://{Path(work) / 'million.db'}"
                    result = backend(name, db, url, None, settings)
            elif name == "postgres":
                with private_postgres() as cluster:
                    result = backend(name, cluster.url, url, cluster, settings)
                    result["postgres_version"] = cluster.psql("SHOW server_version")[0][0]
            else:
                raise RuntimeError(f"BENCH_MILLION_BACKENDS: unknown backend {name}")
            result["wall_seconds"] = time.monotonic() - started
            out["backends"][name] = result
    return out
