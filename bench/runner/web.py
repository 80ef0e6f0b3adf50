"""Web: the public status page of 50 monitors with 90 days of hourly rollups (and two days
of raw results), as HTML, JSON and a badge, one request at a time: wrk's latency over
loopback with one connection is the server's time per page, plus the bytes each answer
sends; and the first, cold read (the server keeps a page's view for ten seconds). Then the dashboard's monitor list at 1,000 and 10,000 monitors, when this build
serves one at /app (logged in through its form)."""

import html
import http.cookiejar
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from common import LUA, RUNS, Tocsin, env_int, env_list, log, median_dicts, run_tools, wrk


def body_bytes(url, opener=None):
    """The size of the body `url` answers with (uncompressed: tocsin sends no encoding)."""
    with (opener or urllib.request.build_opener()).open(url, timeout=30) as answer:
        return len(answer.read())


def measure(server, path, seconds, connections, env=None):
    """Median of RUNS wrk runs of GET `path`, with the answer's size."""
    env = dict(env or {}, BENCH_PATH=path)
    env.setdefault("BENCH_TOKEN", "none")
    runs = [wrk(server.base, seconds, connections, script=LUA / "get.lua", env=env)
            for _ in range(RUNS)]
    out = median_dicts(runs)
    out["bytes"] = body_bytes(server.base + path)
    return out


def status_page(seconds, connections):
    """The status page scenario."""
    monitors = env_int("BENCH_WEB_MONITORS", 50, 10)
    days = env_int("BENCH_WEB_DAYS", 90, 7)
    raw_hours = env_int("BENCH_WEB_RAW_HOURS", 48, 4)
    out = {"monitors": monitors, "days": days, "raw_hours": raw_hours, "requests": {}}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as work:
        db = f"sqlite://{Path(work) / 'web.db'}"
        log(f"web: seeding {monitors} monitors, {days} days ({raw_hours} h raw)")
        _, seeded, _ = run_tools("seed-history", "--database-url", db, "--monitors", monitors,
                                 "--days", days, "--raw-hours", raw_hours,
                                 "--interval-secs", 60)
        out["seed"] = seeded
        with Tocsin(db) as server:
            token = server.login(seeded["email"], seeded["password"])
            ids = list(range(seeded["first_id"], seeded["last_id"] + 1))
            status, page = server.call("POST", "/api/v1/status-pages",
                                       {"slug": "bench", "title": "Bench status",
                                        "monitor_ids": ids}, token)
            if status != 201:
                raise RuntimeError(f"creating the status page answered {status}: {page}")
            first = ids[0]
            # The first read is the store's work (later ones within ten seconds come from
            # the server's memory): timed on its own.
            started = time.monotonic()
            body_bytes(server.base + "/status/bench")
            out["cold_ms"] = (time.monotonic() - started) * 1000
            for name, path in (("html", "/status/bench"), ("json", "/status/bench.json"),
                               ("feed", "/status/bench/feed.atom"),
                               ("badge_uptime_90d",
                                f"/status/bench/badges/{first}/uptime.svg?window=90d")):
                log(f"web: GET {path}")
                out["requests"][name] = measure(server, path, seconds, connections)
    return out


def app_login(server, email, password):
    """Logs in through the dashboard's form (its hidden fields, the CSRF token, sent back
    with the credentials); returns the session's Cookie header value ("" if none was set).
    Raises HTTPError 404 when this build serves no /app."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(server.base + "/app/login", timeout=30).read().decode()
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        attrs = dict(re.findall(r'([a-zA-Z_-]+)="([^"]*)"', tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    fields.update(email=email, password=password)
    opener.open(server.base + "/app/login", urllib.parse.urlencode(fields).encode(),
                timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def cookie_opener(cookie):
    """An opener sending `cookie` with every request."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", cookie)]
    return opener


def dashboard(sizes, seconds, connections):
    """The dashboard list per size, or a note when this build has no /app."""
    out = {"sizes": {}}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-web-app-") as work:
            db = f"sqlite://{Path(work) / 'app.db'}"
            log(f"web: seeding {size} monitors for the dashboard")
            _, seeded, _ = run_tools("seed-monitors", "--database-url", db, "--count", size,
                                     "--interval-secs", 86400, "--url", "http://127.0.0.1:9/",
                                     "--no-pace")
            with Tocsin(db) as server:
                # Every monitor is due once at start (refused at once by port 9): let that
                # burst pass before measuring.
                time.sleep(env_int("BENCH_WEB_SETTLE_SECS", 10, 3))
                try:
                    cookie = app_login(server, seeded["email"], seeded["password"])
                except urllib.error.HTTPError as error:
                    if error.code == 404:
                        return {"skipped": "this build serves no /app"}
                    raise
                if not cookie:
                    return {"skipped": "logging in through /app/login set no cookie"}
                log(f"web: GET /app with {size} monitors")
                runs = [wrk(server.base, seconds, connections, script=LUA / "get.lua",
                            headers=(f"Cookie: {cookie}",),
                            env={"BENCH_PATH": "/app", "BENCH_TOKEN": "none"})
                        for _ in range(RUNS)]
                result = median_dicts(runs)
                result["bytes"] = body_bytes(server.base + "/app", cookie_opener(cookie))
                out["sizes"][str(size)] = result
    return out


def run():
    """Runs the web scenario; returns its results."""
    seconds = env_int("BENCH_WEB_SECS", 15, 4)
    connections = env_int("BENCH_WEB_CONNECTIONS", 1)
    sizes = [int(s) for s in env_list("BENCH_WEB_DASHBOARD_SIZES", "1000 10000", "1000")]
    return {"duration_s": seconds, "connections": connections,
            "status_page": status_page(seconds, connections),
            "dashboard": dashboard(sizes, seconds, connections)}
