"""Alerting's cost to the check engine (issue 12): the same monitors with and without a
channel each, run in alternation in one session, so the CPU per check of the two can be set
side by side. With a channel, every results write decides each monitor's state by its
thresholds and plans notifications in the same transaction; the targets stay healthy, so
nothing is sent and only that bookkeeping is measured."""

import tempfile

from common import RUNS, env_list, env_int, log, median_dicts, nginx
from engine import load_run, seed


def run():
    """Runs the alerting comparison; returns its results."""
    sizes = [tuple(map(int, s.split(":"))) for s in
             env_list("BENCH_ALERTS_SIZES", "1000:1 50000:5", "1000:1")]
    seconds = env_int("BENCH_ENGINE_SECS", 60, 8)
    warmup = env_int("BENCH_ENGINE_WARMUP", 5, 2)
    out = {"sizes": [], "duration_s": seconds}
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as work, nginx() as url:
        seeded = {}
        for count, interval in sizes:
            for alerts in (False, True):
                name = f"{'on' if alerts else 'off'}-{count}"
                seeded[(count, alerts)], _ = seed(work, name, count, interval, url,
                                                  alerts=alerts)
        runs = {key: [] for key in seeded}
        for n in range(RUNS):
            for count, interval in sizes:
                # Off then on, back to back: whatever else the machine does drifts slowly.
                for alerts in (False, True):
                    log(f"alerts run {n + 1}/{RUNS}: {count} monitors every {interval}s, "
                        f"alerting {'on' if alerts else 'off'}")
                    runs[(count, alerts)].append(
                        load_run(seeded[(count, alerts)], count, interval, seconds, warmup))
        for count, interval in sizes:
            off = median_dicts(runs[(count, False)])
            on = median_dicts(runs[(count, True)])
            ratio = None
            if off.get("cpu_ms_per_check") and on.get("cpu_ms_per_check"):
                ratio = on["cpu_ms_per_check"] / off["cpu_ms_per_check"]
            out["sizes"].append({"monitors": count, "interval_s": interval,
                                 "target_checks_per_s": count / interval,
                                 "off": off, "on": on, "cpu_ratio_on_off": ratio})
    return out
