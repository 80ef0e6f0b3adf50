"""The API: the seed's register load test against the argon2id ceiling, login likewise, and
the endpoints without a hash (the monitor list, results, stats, and creating monitors by POST
/url and POST /api/v1/monitors) with wrk."""

import tempfile
import time
from pathlib import Path

from common import (LUA, RUNS, Tocsin, cpu_seconds, env_int, log, median_dicts, nginx, ratio,
                    run_tools, wrk)


def create_account(server, email, password="bench-password1"):
    """Registers an account through the API and logs it in; returns its token."""
    status, body = server.call("POST", "/api/v1/auth/register",
                               {"email": email, "password": password})
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body}")
    return server.login(email, password)


def measured(server, *args, **kwargs):
    """One wrk run (see common.wrk) plus the server's CPU per request over it, from
    /proc/PID/stat: the figure to compare when other work shares the cores."""
    before = cpu_seconds(server.pid)
    report = wrk(server.base, *args, **kwargs)
    spent = cpu_seconds(server.pid) - before
    report["server_cpu_us_per_request"] = 1e6 * spent / max(report["requests"], 1)
    return report


def run():
    """Runs the API scenario; returns its results."""
    seconds = env_int("BENCH_API_SECS", 30, 5)
    connections = env_int("BENCH_API_CONNECTIONS", 64, 32)
    users = env_int("BENCH_API_USERS", 10)
    out = {"duration_s": seconds, "connections": connections, "users": users}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as work, nginx() as target:
        db = f"sqlite://{Path(work) / 'api.db'}"
        with Tocsin(db) as server:
            email, password = "login-bench@example.com", "bench-password1"
            create_account(server, email, password)
            # The hash time is measured in each run, right before the load it bounds.
            hashes, registers, logins = [], [], []
            for n in range(RUNS):
                log(f"api run {n + 1}/{RUNS}: hash time, register (the seed's test), login")
                hashes.append(run_tools("hash-time", "--count", 20)[1])
                registers.append(measured(server, seconds, users, threads=2,
                                          script=LUA / "register.lua"))
                logins.append(measured(server, seconds, users, threads=2,
                                       script=LUA / "login.lua",
                                       env={"BENCH_EMAIL": email, "BENCH_PASSWORD": password}))
            out["hash"] = median_dicts(hashes)
            ceiling = out["hash"]["ceiling_per_s"]
            for name, runs in (("register", registers), ("login", logins)):
                out[name] = median_dicts(runs)
                out[name]["ratio_to_ceiling"] = ratio(out[name]["req_per_s"], ceiling)

            # Two accounts add monitors (POST /url, POST /api/v1/monitors), another holds
            # ten to read.
            poster = create_account(server, "poster@example.com")
            creator = create_account(server, "creator@example.com")
            reader = create_account(server, "reader@example.com")
            ids = []
            for _ in range(10):
                status, body = server.call("POST", "/api/v1/monitors",
                                           {"url": target, "interval_seconds": 1}, reader)
                if status != 201:
                    raise RuntimeError(f"creating a monitor answered {status}: {body}")
                ids.append(body["id"])
            time.sleep(3)  # a few results to list and to summarise
            # The creations last: each monitor made is due at once, and checking them goes
            # on after the run, so it would load whatever was measured next.
            endpoints = {
                "GET /api/v1/monitors": (LUA / "get.lua", {
                    "BENCH_TOKEN": reader, "BENCH_PATH": "/api/v1/monitors"}),
                "GET …/results": (LUA / "get.lua", {
                    "BENCH_TOKEN": reader, "BENCH_PATH": "/api/v1/monitors/{id}/results",
                    "BENCH_ID_MIN": str(min(ids)), "BENCH_ID_MAX": str(max(ids))}),
                "GET …/stats?window=30d": (LUA / "get.lua", {
                    "BENCH_TOKEN": reader,
                    "BENCH_PATH": "/api/v1/monitors/{id}/stats?window=30d",
                    "BENCH_ID_MIN": str(min(ids)), "BENCH_ID_MAX": str(max(ids))}),
                "POST /url": (LUA / "post_url.lua", {"BENCH_TOKEN": poster,
                                                     "BENCH_TARGET": target}),
                "POST /api/v1/monitors": (LUA / "post_monitor.lua", {
                    "BENCH_TOKEN": creator, "BENCH_TARGET": target}),
            }
            out["endpoints"] = {}
            for name, (script, env) in endpoints.items():
                log(f"api: {name}")
                out["endpoints"][name] = median_dicts([
                    measured(server, seconds, connections, threads=2, script=script, env=env)
                    for _ in range(RUNS)])
    return out
