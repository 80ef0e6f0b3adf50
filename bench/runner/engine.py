"""The check engine: N monitors seeded through the store against a local nginx with fresh
connections; checks/s, schedule lateness, CPU per check and RSS per monitor, beside wrk's
fresh-connection ceiling measured in the same run; then a ramp to the highest rate held
(p99 lateness < 200 ms, >= 99 % of the scheduled checks run, no failed check) and one step
past it. Every monitor is linked to a webhook channel (alerting on), and seeding is paced
so that due times spread over the interval, as real accounts' are."""

import tempfile
import time
from pathlib import Path

from common import (QUICK, RUNS, Tocsin, cpu_seconds, env_int, env_list, histogram_delta,
                    histogram_max, histogram_quantile, log, median_dicts, metric_sum, nginx,
                    rss_kib, run_tools, wrk)

LATENESS = "tocsin_schedule_lateness_seconds"
LATE_LIMIT_S = 0.200
# The share of scheduled checks a ramp step must run to count as held.
RUN_SHARE = 0.99


def grace(interval):
    """How late a check may start before the scheduler skips it (README: half the
    interval, at most 10 s)."""
    return min(interval / 2, 10)


def seed(workdir, name, count, interval, url, pace=True, alerts=True):
    """A fresh SQLite database with `count` monitors of `url` (each linked to a webhook
    channel of its account when `alerts`); returns its URL and the seeder's report."""
    path = Path(workdir) / f"{name}.db"
    db = f"sqlite://{path}"
    # Many accounts: SQLite's per-creation count of the owner's monitors makes one account of
    # 100k monitors seed quadratically slowly (see bench/README.md).
    args = ["seed-monitors", "--database-url", db, "--count", count,
            "--interval-secs", interval, "--url", url,
            "--per-user", env_int("BENCH_MONITORS_PER_USER", 1000)]
    if pace:
        # The pace is count ÷ interval creations per second: above what the store keeps up
        # with, spread the creations over several intervals (phases stay evenly spread).
        seed_rate = env_int("BENCH_SEED_RATE", 3000)
        args += ["--spread-intervals", max(1, -(-count // (interval * seed_rate)))]
    else:
        args.append("--no-pace")
    if alerts:
        args.append("--alerts")
    log(f"seeding {count} monitors every {interval}s ({name})")
    _, report, _ = run_tools(*args)
    if pace and report["max_lag_secs"] > 0.05 * interval:
        log(f"seeding fell {report['max_lag_secs']:.1f}s behind its pace: due times are "
            "not evenly spread over the interval")
    return db, report


def load_run(db, count, interval, seconds, warmup, wrap=()):
    """One sustained run: tocsin serves the seeded monitors; the window after the warm-up is
    measured from two scrapes of /metrics and two readings of /proc. `wrap`: see Tocsin."""
    # Wait out the grace so every missed due time is skipped, not run in one burst.
    time.sleep(grace(interval) + 1)
    with Tocsin(db, wrap=wrap) as server:
        time.sleep(warmup)
        before, cpu0, t0 = server.metrics(), cpu_seconds(server.pid), time.monotonic()
        time.sleep(seconds)
        after, cpu1, t1 = server.metrics(), cpu_seconds(server.pid), time.monotonic()
        rss = rss_kib(server.pid)
    checks = metric_sum(after, "tocsin_checks_total") - metric_sum(before, "tocsin_checks_total")
    ok = after.get(("tocsin_checks_total", '{outcome="ok"}'), 0) - before.get(
        ("tocsin_checks_total", '{outcome="ok"}'), 0)
    skipped = metric_sum(after, "tocsin_checks_skipped_total") - metric_sum(
        before, "tocsin_checks_skipped_total")
    starved = metric_sum(after, "tocsin_checks_starved_total") - metric_sum(
        before, "tocsin_checks_starved_total")
    buckets = histogram_delta(before, after, LATENESS)
    cpu = cpu1 - cpu0
    ms = lambda s: None if s is None else s * 1000  # noqa: E731
    return {
        "monitors": count,
        "interval_s": interval,
        "target_checks_per_s": count / interval,
        "checks_per_s": checks / (t1 - t0),
        "failed_checks": checks - ok,
        "skipped": skipped,
        # Of which served too late by tocsin itself to judge the target (never failures).
        "starved": starved,
        "lateness_p50_ms": ms(histogram_quantile(buckets, 0.50)),
        "lateness_p99_ms": ms(histogram_quantile(buckets, 0.99)),
        "lateness_max_ms": ms(histogram_max(buckets)),
        "cpu_percent": 100 * cpu / (t1 - t0),
        "cpu_ms_per_check": 1000 * cpu / checks if checks else None,
        "cpu_s_per_1000_checks": 1000 * cpu / checks if checks else None,
        "rss_loaded_mib": rss / 1024,
    }


def idle_rss(db, seeded_at):
    """RSS of tocsin holding the seeded monitors, before any is due (a long interval)."""
    time.sleep(max(0.0, seeded_at + 11 - time.monotonic()))
    with Tocsin(db) as server:
        time.sleep(3)
        checks = metric_sum(server.metrics(), "tocsin_checks_total")
        return rss_kib(server.pid), checks


def ceiling(url, seconds):
    """wrk with `Connection: close`: the machine's fresh-connection request rate and the
    client CPU per request."""
    report = wrk(url, seconds, env_int("BENCH_WRK_CONNECTIONS", 32), threads=1,
                 headers=["Connection: close"])
    return {"req_per_s": report["req_per_s"], "cpu_us_per_request": report["cpu_us_per_request"],
            "errors": report["errors_connect"] + report["errors_read"] + report["non_2xx"]}


def run():
    """Runs the engine scenario; returns its results."""
    sizes = [tuple(map(int, s.split(":"))) for s in
             env_list("BENCH_ENGINE_SIZES", "1000:10 1000:1 10000:5 100000:20 100000:10",
                      "1000:10 1000:1")]
    seconds = env_int("BENCH_ENGINE_SECS", 60, 8)
    warmup = env_int("BENCH_ENGINE_WARMUP", 5, 2)
    out = {"sizes": [], "ceiling": None, "ramp": [], "duration_s": seconds}
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as work, nginx() as url:
        # Idle memory: an empty database, then each N at a one-day interval.
        empty, _ = seed(work, "empty", 0, 86400, url, pace=False)
        base_rss, _ = idle_rss(empty, 0)
        idle = {}
        for count in sorted({count for count, _ in sizes}):
            db, _ = seed(work, f"idle-{count}", count, 86400, url, pace=False)
            rss, checks = idle_rss(db, time.monotonic())
            idle[count] = {"rss_idle_mib": rss / 1024, "checks_during_idle": checks,
                           "rss_kib_per_idle_monitor": (rss - base_rss) / count}
        seeded, seed_lag = {}, {}
        for size in sizes:
            count, interval = size
            seeded[size], report = seed(work, f"load-{count}-{interval}", count, interval, url)
            seed_lag[size] = report["max_lag_secs"]
        ceilings, loads = [], {size: [] for size in sizes}
        for n in range(RUNS):
            log(f"engine run {n + 1}/{RUNS}: wrk ceiling")
            ceilings.append(ceiling(url, seconds))
            for size in sizes:
                count, interval = size
                log(f"engine run {n + 1}/{RUNS}: {count} monitors every {interval}s")
                loads[size].append(load_run(seeded[size], count, interval, seconds, warmup))
        out["ceiling"] = median_dicts(ceilings)
        wrk_cpu = out["ceiling"]["cpu_us_per_request"]
        for size in sizes:
            row = median_dicts(loads[size])
            row.update(idle[size[0]])
            row["base_rss_mib"] = base_rss / 1024
            row["seed_lag_s"] = seed_lag[size]
            cpu = row.get("cpu_ms_per_check")
            row["cpu_ratio_to_wrk"] = None if cpu is None else cpu * 1000 / wrk_cpu
            out["sizes"].append(row)
        out["ramp"] = ramp(work, url)
    return out


def ramp(work, url):
    """Raises checks/s step by step (monitors = rate × interval) until a step is not held:
    p99 lateness past 200 ms, fewer than 99 % of the scheduled checks run, or any check
    failed (the targets are healthy, so a failure is a false one); one run per step, and the
    failing step is kept as the behaviour one step past the limit."""
    rates = [int(r) for r in env_list("BENCH_RAMP_RATES", "2000 4000 6000 8000 10000 12000 "
                                      "14000 16000 20000 24000", "1000 3000 6000")]
    interval = env_int("BENCH_RAMP_INTERVAL", 5, 2)
    seconds = env_int("BENCH_RAMP_SECS", 30, 5)
    steps = []
    for rate in rates:
        count = rate * interval
        db, seeded = seed(work, f"ramp-{rate}", count, interval, url)
        log(f"ramp: {rate} checks/s ({count} monitors every {interval}s)")
        # A fresh monitor's first check is off its grid and its second 0.5-1.5 intervals
        # later: a window opened one interval after the start missed the second check of
        # about one monitor in eight (96 % "run", nothing lost). After three intervals every
        # monitor is on its grid.
        step = load_run(db, count, interval, seconds, 2 if QUICK else 3 * interval)
        step["seed_lag_s"] = seeded["max_lag_secs"]
        Path(db.removeprefix("sqlite://")).unlink(missing_ok=True)
        # Checks run: every scheduled check minus those skipped or starved (counted apart).
        step["run_share"] = step["checks_per_s"] / rate
        step["passed"] = (step["lateness_p99_ms"] or 0) <= LATE_LIMIT_S * 1000 and \
            step["run_share"] >= RUN_SHARE and step["failed_checks"] == 0
        steps.append(step)
        if not step["passed"]:
            break
    return steps
