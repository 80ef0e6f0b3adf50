"""History: stats latency over 30 and 365 days for monitors with 30 days of hourly rollups
and two days of raw results at a 60 s interval, one request at a time."""

import tempfile
from pathlib import Path

from common import LUA, RUNS, Tocsin, env_int, log, median_dicts, run_tools, wrk

WINDOWS = ("24h", "30d", "365d")


def run():
    """Runs the history scenario; returns its results."""
    monitors = env_int("BENCH_HISTORY_MONITORS", 10_000, 100)
    days = env_int("BENCH_HISTORY_DAYS", 30)
    raw_hours = env_int("BENCH_HISTORY_RAW_HOURS", 48)
    seconds = env_int("BENCH_HISTORY_SECS", 15, 4)
    connections = env_int("BENCH_HISTORY_CONNECTIONS", 1)
    out = {"monitors": monitors, "days": days, "raw_hours": raw_hours,
           "connections": connections, "duration_s": seconds, "windows": {}}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as work:
        db = f"sqlite://{Path(work) / 'history.db'}"
        log(f"history: seeding {monitors} monitors, {days} days ({raw_hours} h raw)")
        _, seeded, _ = run_tools("seed-history", "--database-url", db, "--monitors", monitors,
                                 "--days", days, "--raw-hours", raw_hours,
                                 "--interval-secs", 60)
        out["seed"] = seeded
        db_file = Path(work) / "history.db"
        out["database_mib"] = sum(
            p.stat().st_size for p in db_file.parent.glob("history.db*")) / 2**20
        with Tocsin(db) as server:
            token = server.login(seeded["email"], seeded["password"])
            env = {"BENCH_TOKEN": token, "BENCH_ID_MIN": str(seeded["first_id"]),
                   "BENCH_ID_MAX": str(seeded["last_id"])}
            for window in WINDOWS:
                log(f"history: stats?window={window}")
                env["BENCH_PATH"] = f"/api/v1/monitors/{{id}}/stats?window={window}"
                out["windows"][window] = median_dicts([
                    wrk(server.base, seconds, connections, script=LUA / "get.lua", env=env)
                    for _ in range(RUNS)])
    return out
