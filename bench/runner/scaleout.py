"""Scale-out: 1, 2 and 3 `tocsin serve` instances on one private PostgreSQL cluster with a few
thousand monitors; checks/s in total and per instance, lateness, statements and transactions
per second (pg_stat_statements, pg_stat_database), CPU of tocsin and of the server per 1000
checks, and a count of due times checked twice, from the results the instances stored."""

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time

from common import (RUNS, Tocsin, cpu_seconds, env_int, env_list, free_port, histogram_delta,
                    histogram_quantile, log, median_dicts, metric_sum, nginx, run_tools,
                    wait_http)
from pgcluster import DATABASE, private_postgres

LATENESS = "tocsin_schedule_lateness_seconds"
# Statements of the tocsin database only: the runner's own queries go to `postgres`.
IN_TOCSIN = f"dbid = (SELECT oid FROM pg_database WHERE datname = '{DATABASE}')"
TOP_STATEMENTS = 8


def seed(pg, count, interval, url):
    """`count` monitors of `url`, created at a constant pace so their due times spread evenly
    over the interval; returns the seeder's report."""
    rate = env_int("BENCH_SCALEOUT_SEED_RATE", 250)
    spread = max(1, -(-count // (interval * rate)))
    log(f"scaleout: seeding {count} monitors every {interval}s over {spread * interval}s")
    _, report, _ = run_tools("seed-monitors", "--database-url", pg.url, "--count", count,
                             "--interval-secs", interval, "--url", url, "--per-user", 1000,
                             "--spread-intervals", spread)
    if "skipped" in report:
        raise RuntimeError(report["skipped"])
    if report["max_lag_secs"] > 0.05 * interval:
        log(f"seeding fell {report['max_lag_secs']:.1f}s behind its pace: due times are not "
            "evenly spread; lower BENCH_SCALEOUT_SEED_RATE")
    return report


@contextlib.contextmanager
def redis_buffer():
    """With BENCH_SCALEOUT_BUFFER=redis, a private redis-server (not the machine's: the other
    users of that one would share its CPU and keys); yields the environment for tocsin."""
    if os.environ.get("BENCH_SCALEOUT_BUFFER", "memory") != "redis":
        yield {}
        return
    if not shutil.which("redis-server"):
        raise RuntimeError("BENCH_SCALEOUT_BUFFER=redis needs redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", folder],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                 text=True).stdout.strip() != "PONG":
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not answer")
                time.sleep(0.1)
            yield {"TOCSIN_REDIS_URL": f"redis://127.0.0.1:{port}"}
        finally:
            proc.terminate()
            proc.wait(10)


def scrape(pg, servers):
    """Everything read at the edges of the window, as close together as possible."""
    reading = {
        "metrics": [s.metrics() for s in servers],
        "tocsin_cpu": sum(cpu_seconds(s.pid) for s in servers),
        "pg_cpu": pg.cpu_seconds(),
        "calls": pg.value(f"SELECT sum(calls) FROM pg_stat_statements WHERE {IN_TOCSIN}"),
        "commits": pg.value("SELECT xact_commit FROM pg_stat_database "
                            f"WHERE datname = '{DATABASE}'"),
    }
    reading["wall"], reading["clock"] = time.time(), time.monotonic()
    return reading


def delta(before, after, name, labels=None):
    """A counter's growth on one instance (all label sets when `labels` is None)."""
    if labels is None:
        return metric_sum(after, name) - metric_sum(before, name)
    return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)


def doubles(pg, since, until):
    """Stored results between two wall times: rows, monitors, and due times stored more than
    once. `checked_at` is when a check started, so two runs of one due time differ by a few
    milliseconds and the primary key cannot catch them. Once the instances are stopped,
    `next_check_at` is on each monitor's grid, so a result's grid slot is its offset from it
    in intervals, rounded down after adding a quarter: a check starts up to half an interval
    late (then it is skipped), never early. Two results in one slot are one due time checked
    twice. A monitor's very first check is left out of the slots: it is due at once, off the
    grid, and its successor is due half an interval to one and a half later, so when the
    first ran late (the first step starts after seeding, with those checks overdue within
    their grace) the two could share a slot without any due time run twice; this was the
    16 "doubles" the first step counted with a lone instance. Results closer than half an
    interval are counted too, for comparison: a check that started near the end of its
    grace and its on-time successor also are."""
    rows = pg.psql(f"""
        WITH numbered AS (
            SELECT monitor_id, checked_at,
                   row_number() OVER (PARTITION BY monitor_id ORDER BY checked_at) AS nth
            FROM results),
        r AS (
            SELECT r.monitor_id, r.nth,
                   floor(extract(epoch FROM r.checked_at - m.next_check_at)
                         / m.interval_seconds + 0.25) AS slot,
                   r.checked_at - lag(r.checked_at) OVER (
                       PARTITION BY r.monitor_id ORDER BY r.checked_at) AS gap,
                   m.interval_seconds
            FROM numbered r JOIN monitors m ON m.id = r.monitor_id
            WHERE r.checked_at >= to_timestamp({since}) AND r.checked_at < to_timestamp({until}))
        SELECT count(*), count(DISTINCT monitor_id),
               count(*) FILTER (WHERE nth > 1)
                   - count(DISTINCT (monitor_id, slot)) FILTER (WHERE nth > 1),
               count(*) FILTER (WHERE gap < make_interval(secs => interval_seconds / 2.0)),
               count(*) FILTER (WHERE nth = 1)
        FROM r""", pg.url)
    stored, monitors, twice, close, first = (int(v) for v in rows[0])
    return {"stored_results": stored, "monitors_checked": monitors, "double_checks": twice,
            "closer_than_half_interval": close, "first_checks": first}


def top_statements(pg, checks):
    """The most called statements of the window, normalized text shortened."""
    rows = pg.psql(f"""
        SELECT calls, rows, total_exec_time,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
        FROM pg_stat_statements WHERE {IN_TOCSIN} ORDER BY calls DESC LIMIT {TOP_STATEMENTS}""")
    return [{"calls": int(c), "calls_per_1000_checks": 1000 * int(c) / checks if checks else None,
             "rows_per_call": int(r) / int(c) if int(c) else None,
             "mean_ms": float(t) / int(c) if int(c) else None, "query": q}
            for c, r, t, q in rows]


def step(pg, k, count, interval, seconds, warmup, extra_env):
    """k instances on the database; after the warm-up, one measured window. Returns the
    step's figures and the window's top statements."""
    env = dict(extra_env)
    if env:
        env["TOCSIN_REDIS_PREFIX"] = f"bench-{secrets.token_hex(4)}"
    started = time.time()
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Tocsin(pg.url, **env)) for _ in range(k)]
        for server in servers:
            wait_http(server.base + "/readyz", 30)
        time.sleep(warmup)
        pg.psql("SELECT pg_stat_statements_reset()")
        before = scrape(pg, servers)
        time.sleep(seconds)
        after = scrape(pg, servers)
        top = top_statements(pg, sum(delta(b, a, "tocsin_checks_total")
                                     for b, a in zip(before["metrics"], after["metrics"])))
    # The instances are gone and have written everything they held.
    stored = doubles(pg, started, time.time())
    window = doubles(pg, before["wall"], after["wall"])
    span = after["clock"] - before["clock"]
    per_instance = [delta(b, a, "tocsin_checks_total") / span
                    for b, a in zip(before["metrics"], after["metrics"])]
    checks = sum(per_instance) * span
    ok = sum(delta(b, a, "tocsin_checks_total", '{outcome="ok"}')
             for b, a in zip(before["metrics"], after["metrics"]))
    buckets = {}
    for b, a in zip(before["metrics"], after["metrics"]):
        for bound, n in histogram_delta(b, a, LATENESS):
            buckets[bound] = buckets.get(bound, 0.0) + n
    buckets = sorted(buckets.items())
    calls, commits = after["calls"] - before["calls"], after["commits"] - before["commits"]
    tocsin_cpu, pg_cpu = after["tocsin_cpu"] - before["tocsin_cpu"], after["pg_cpu"] - before[
        "pg_cpu"]
    per_1000 = lambda x: 1000 * x / checks if checks else None  # noqa: E731
    ms = lambda s: None if s is None else s * 1000  # noqa: E731
    figures = {
        "instances": k,
        "monitors": count,
        "interval_s": interval,
        "target_checks_per_s": count / interval,
        "checks_per_s": checks / span,
        "instance_min_checks_per_s": min(per_instance),
        "instance_max_checks_per_s": max(per_instance),
        "per_instance_checks_per_s": per_instance,
        "failed_checks": round(checks - ok),
        "skipped": sum(delta(b, a, "tocsin_checks_skipped_total")
                       for b, a in zip(before["metrics"], after["metrics"])),
        "lateness_p50_ms": ms(histogram_quantile(buckets, 0.50)),
        "lateness_p99_ms": ms(histogram_quantile(buckets, 0.99)),
        "statements_per_s": calls / span,
        "statements_per_1000_checks": per_1000(calls),
        "commits_per_s": commits / span,
        "commits_per_1000_checks": per_1000(commits),
        "tocsin_cpu_percent": 100 * tocsin_cpu / span,
        "postgres_cpu_percent": 100 * pg_cpu / span,
        "tocsin_cpu_s_per_1000_checks": per_1000(tocsin_cpu),
        "postgres_cpu_s_per_1000_checks": per_1000(pg_cpu),
        "window_stored_results": window["stored_results"],
        "window_stored_per_check": window["stored_results"] / checks if checks else None,
        "double_checks": stored["double_checks"],
        "closer_than_half_interval": stored["closer_than_half_interval"],
        # Monitors' at-once first checks, left out of the double count (see doubles()).
        "first_checks": stored["first_checks"],
        "step_stored_results": stored["stored_results"],
        "monitors_checked": stored["monitors_checked"],
    }
    return figures, top


def run():
    """Runs the scale-out scenario for each `N:interval` of BENCH_SCALEOUT_SIZES, each on a
    private cluster of its own; the first size's figures are the section's, the others
    follow under "more" (a low rate shows how evenly a few checks are shared)."""
    default = f"{env_int('BENCH_SCALEOUT_MONITORS', 6000, 1000)}:" \
              f"{env_int('BENCH_SCALEOUT_INTERVAL', 2)} 1000:2"
    sizes = [tuple(map(int, s.split(":"))) for s in env_list("BENCH_SCALEOUT_SIZES", default)]
    results = [run_size(count, interval) for count, interval in sizes]
    out = results[0]
    out["more"] = results[1:]
    return out


def run_size(count, interval):
    """1, 2, 3… instances on `count` monitors every `interval` seconds."""
    ks = [int(k) for k in env_list("BENCH_SCALEOUT_INSTANCES", "1 2 3")]
    seconds = env_int("BENCH_SCALEOUT_SECS", 20, 6)
    warmup = env_int("BENCH_SCALEOUT_WARMUP", 5, 3)
    buffer = os.environ.get("BENCH_SCALEOUT_BUFFER", "memory")
    out = {"duration_s": seconds, "warmup_s": warmup, "buffer": buffer, "steps": []}
    with nginx() as url, private_postgres() as pg, redis_buffer() as extra_env:
        out["seed"] = seed(pg, count, interval, url)
        out["postgres_version"] = pg.psql("SHOW server_version")[0][0]
        runs, top = {k: [] for k in ks}, None
        for n in range(RUNS):
            # One pass over every k per run, so each k meets the machine's load of the moment.
            for k in ks:
                log(f"scaleout run {n + 1}/{RUNS}: {k} instance(s), {count} monitors every "
                    f"{interval}s")
                figures, statements = step(pg, k, count, interval, seconds, warmup, extra_env)
                runs[k].append(figures)
                if k == max(ks):
                    top = statements
                if figures["double_checks"]:
                    log(f"{figures['double_checks']} due time(s) checked twice with {k} "
                        "instances")
        for k in ks:
            row = median_dicts(runs[k])
            # The worst run, not the median: one double is one too many.
            row["double_checks"] = max(r["double_checks"] for r in runs[k])
            row["closer_than_half_interval"] = max(r["closer_than_half_interval"]
                                                   for r in runs[k])
            out["steps"].append(row)
        out["top_statements"] = {"instances": max(ks), "statements": top}
        out["database_mib"] = pg.value(
            f"SELECT pg_database_size('{DATABASE}')") / 1024 / 1024
    return out
