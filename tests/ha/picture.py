#!/usr/bin/env python3
"""The whole picture of issue 5, end to end, on one machine.

A PostgreSQL primary and a streaming standby, a Redis, two tocsin instances, HAProxy in
front, a local target counting hits per path; then two balancers in network namespaces
sharing a virtual IP through keepalived. Run by tests/ha/run, which builds tocsin and
passes the binary: `picture.py --tocsin target/debug/tocsin`. Standard library only.

Every step prints one line with the time since start. Failed assertions are collected (the
run goes on where it can) and make the exit status 1, with the tails of every log.
"""

import argparse
import bisect
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PERIOD = 2  # interval_seconds of every monitor
MONITORS = 6
OUTAGE = 4.0  # seconds between stopping the primary and promoting the standby
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


# ---------------------------------------------------------------------------------------
# Reporting


class SetupError(Exception):
    """Something the picture needs could not be built: the run stops."""


class Report:
    def __init__(self):
        self.failures = []
        self.skipped = []

    def line(self, status, name, detail=""):
        text = f"[{now():6.1f}s] {status:<5} {name}"
        if detail:
            text += f": {detail}"
        print(text, flush=True)

    def ok(self, name, detail=""):
        self.line("ok", name, detail)

    def info(self, name, detail=""):
        self.line("info", name, detail)

    def fail(self, name, detail=""):
        self.failures.append(f"{name}: {detail}")
        self.line("FAIL", name, detail)

    def skip(self, name, detail=""):
        self.skipped.append(f"{name}: {detail}")
        self.line("skip", name, detail)

    def expect(self, cond, name, detail=""):
        (self.ok if cond else self.fail)(name, detail)
        return cond


R = Report()


# ---------------------------------------------------------------------------------------
# Processes, files and cleanup


class Cleanup:
    """Undo actions, run last-registered first, each at most once, whatever happens."""

    def __init__(self):
        self.actions = []

    def add(self, what, fn):
        self.actions.append((what, fn))

    def run(self):
        while self.actions:
            what, fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                print(f"cleanup: {what}: {e}", file=sys.stderr)


CLEAN = Cleanup()
LOGS = {}  # name -> path, printed (tails) on failure


def sh(cmd, check=True, timeout=60, **kw):
    """Runs a command, returns the CompletedProcess; raises SetupError with its output."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SetupError(f"{' '.join(cmd)}: {e}") from e
    if check and p.returncode != 0:
        raise SetupError(
            f"`{' '.join(cmd)}` exited {p.returncode}: {(p.stderr or p.stdout).strip()}"
        )
    return p


def as_postgres(cmd, cwd, **kw):
    return sh(["runuser", "-u", "postgres", "--", *cmd], cwd=cwd, **kw)


def spawn(name, cmd, log_dir, env=None):
    """Starts a long-running process in its own session, output to a log file."""
    log = os.path.join(log_dir, f"{name}.log")
    LOGS[name] = log
    out = open(log, "ab")
    proc = subprocess.Popen(
        cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    out.close()
    CLEAN.add(f"stop {name}", lambda: stop_process(proc))
    return proc


def stop_process(proc, sig=signal.SIGTERM, grace=3.0):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout, interval=0.1):
    """Polls fn until it returns a truthy value; returns (value, seconds) or raises."""
    start = time.monotonic()
    while True:
        value = fn()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------
# HTTP client (no proxies from the environment: everything here is local)

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, token=None, timeout=5.0):
    """(status, headers, body bytes); status None when no HTTP answer came."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, {}, str(e).encode()


def status_is(method, url, want, **kw):
    return lambda: http(method, url, **kw)[0] == want


# ---------------------------------------------------------------------------------------
# The target: counts hits per path with their arrival times


class Target:
    def __init__(self):
        self.lock = threading.Lock()
        self.hits = {}  # path -> [seconds since T0 (monotonic)]
        self.walls = {}  # path -> [Unix time of the same hits, to pair with checked_at]
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                at, wall = now(), time.time()
                with target.lock:
                    target.hits.setdefault(self.path, []).append(at)
                    target.walls.setdefault(self.path, []).append(wall)
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        CLEAN.add("stop the target", self.stop)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def times(self, path, since=-1e9, until=1e9):
        with self.lock:
            return [t for t in self.hits.get(path, []) if since <= t <= until]

    def count(self, path):
        with self.lock:
            return len(self.hits.get(path, []))

    def hits_with_walls(self, path):
        with self.lock:
            return list(zip(self.hits.get(path, []), self.walls.get(path, [])))


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def unix(checked_at):
    return datetime.fromisoformat(checked_at.replace("Z", "+00:00")).timestamp()


def pair(hits, stored, slack=0.5):
    """Pairs hits at the target ((mono, wall) tuples) with stored results (checked_at
    strings): returns the hits no result is within `slack` seconds of, and the results no
    hit is near. A check starts (checked_at) a few milliseconds before its hit arrives. Two
    instances running one due time in the same millisecond make two hits and one result,
    since a result is keyed by its monitor and checked_at: both hits pair with it."""
    results = sorted(unix(c) for c in stored)
    walls = sorted(w for _, w in hits)
    lost = [h for h in hits if nearest(results, h[1]) > slack]
    orphans = [r for r in results if nearest(walls, r) > slack]
    return lost, orphans


def nearest(sorted_values, x):
    i = bisect.bisect_left(sorted_values, x)
    near = [sorted_values[j] for j in (i - 1, i) if 0 <= j < len(sorted_values)]
    return min((abs(v - x) for v in near), default=float("inf"))


def max_gap(times, start, end):
    """The longest stretch without a hit in [start, end], its ends included."""
    inside = [t for t in times if start <= t <= end]
    return max(gaps([start, *inside, end]))


# ---------------------------------------------------------------------------------------
# PostgreSQL primary and streaming standby


class Postgres:
    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres", "postgres")
        self.primary = os.path.join(self.dir, "primary")
        self.standby = os.path.join(self.dir, "standby")
        self.p1, self.p2 = free_port(), free_port()
        LOGS["postgres-primary"] = os.path.join(self.dir, "primary.log")
        LOGS["postgres-standby"] = os.path.join(self.dir, "standby.log")

    def ctl(self, data, *args, check=True):
        log = LOGS["postgres-primary" if data == self.primary else "postgres-standby"]
        return as_postgres(["pg_ctl", "-D", data, "-l", log, *args], self.dir, check=check)

    def psql(self, port, sql, db="postgres"):
        p = sh(
            ["psql", "-X", "-Atq", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             "-d", db, "-c", sql],
            check=False, timeout=10,
        )
        return p.stdout.strip() if p.returncode == 0 else None

    def start(self):
        as_postgres(
            ["initdb", "-D", self.primary, "-U", "postgres", "-A", "trust", "--no-sync",
             "-E", "UTF8", "--locale=C"],
            self.dir,
        )
        with open(os.path.join(self.primary, "postgresql.conf"), "a") as f:
            f.write(
                f"\n# tests/ha\nport = {self.p1}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = '64MB'\n"
                "hot_standby = on\nfsync = off\nmax_connections = 100\n"
            )
        with open(os.path.join(self.primary, "pg_hba.conf"), "a") as f:
            f.write(
                "host replication postgres 127.0.0.1/32 trust\n"
                "host all all 127.0.0.1/32 trust\n"
            )
        CLEAN.add("stop the primary", lambda: self.stop(self.primary))
        self.ctl(self.primary, "-w", "-t", "30", "start")
        if self.psql(self.p1, "CREATE DATABASE tocsin") is None:
            raise SetupError("cannot create the database tocsin on the primary")
        as_postgres(
            ["pg_basebackup", "-h", "127.0.0.1", "-p", str(self.p1), "-U", "postgres",
             "-D", self.standby, "-R", "-X", "stream", "-c", "fast"],
            self.dir,
        )
        with open(os.path.join(self.standby, "postgresql.conf"), "a") as f:
            f.write(f"port = {self.p2}\n")
        CLEAN.add("stop the standby", lambda: self.stop(self.standby))
        self.ctl(self.standby, "-w", "-t", "30", "start")
        wait_for(
            "streaming replication",
            lambda: self.psql(
                self.p1, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
            ) == "1",
            timeout=20,
        )

    def stop(self, data, mode="immediate"):
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            self.ctl(data, "-m", mode, "-w", "-t", "20", "stop", check=False)
        pidfile = os.path.join(data, "postmaster.pid")
        if os.path.exists(pidfile):  # pg_ctl could not stop it: be blunt
            try:
                os.kill(int(open(pidfile).readline()), signal.SIGKILL)
            except (ValueError, OSError):
                pass

    def url(self):
        return (
            f"postgres://postgres@127.0.0.1:{self.p1},127.0.0.1:{self.p2}/tocsin"
            "?target_session_attrs=read-write"
        )


# ---------------------------------------------------------------------------------------
# Network namespaces: a bridge, two balancer hosts, the root namespace as the client


class Net:
    """Bridge + namespaces lb1/lb2. Names carry our pid so a stale run can be told apart."""

    def __init__(self):
        pid = os.getpid()
        self.tag = f"tha{pid}"
        self.bridge = f"{self.tag}br"
        self.ns = {1: f"{self.tag}-lb1", 2: f"{self.tag}-lb2"}
        self.host_if = {i: f"{self.tag}h{i}" for i in (1, 2)}
        self.ns_if = {i: f"{self.tag}n{i}" for i in (1, 2)}
        self.prefix = self.free_prefix(pid)
        self.host = f"{self.prefix}.1"
        self.addr = {1: f"{self.prefix}.11", 2: f"{self.prefix}.12"}
        self.vip = f"{self.prefix}.100"

    @staticmethod
    def free_prefix(pid):
        used = sh(["ip", "-4", "route", "show", "table", "all"], check=False).stdout
        for k in range(250):
            prefix = f"10.213.{(pid + k) % 250}"
            if f"{prefix}." not in used:
                return prefix
        raise SetupError("no free 10.213.x.0/24 subnet")

    @staticmethod
    def remove_stale():
        """Namespaces and bridges of earlier runs that were killed before their cleanup."""
        names = sh(["ip", "netns", "list"], check=False).stdout.split()
        for name in names:
            m = re.fullmatch(r"tha(\d+)-lb[12]", name)
            if m and not os.path.exists(f"/proc/{m.group(1)}"):
                Net.delete_ns(name)
        links = sh(["ip", "-o", "link", "show"], check=False).stdout
        for m in re.finditer(r"^\d+: (tha(\d+)(?:br|h[12]))[@:]", links, re.M):
            if not os.path.exists(f"/proc/{m.group(2)}"):
                sh(["ip", "link", "del", m.group(1)], check=False)

    @staticmethod
    def delete_ns(name):
        pids = sh(["ip", "netns", "pids", name], check=False).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ValueError, OSError):
                pass
        sh(["ip", "netns", "del", name], check=False)

    def up(self):
        CLEAN.add("delete the bridge", lambda: sh(["ip", "link", "del", self.bridge], check=False))
        sh(["ip", "link", "add", self.bridge, "type", "bridge"])
        sh(["ip", "addr", "add", f"{self.host}/24", "dev", self.bridge])
        sh(["ip", "link", "set", self.bridge, "up"])
        for i in (1, 2):
            ns = self.ns[i]
            CLEAN.add(f"delete namespace {ns}", lambda ns=ns: self.delete_ns(ns))
            sh(["ip", "netns", "add", ns])
            CLEAN.add(
                f"delete {self.host_if[i]}",
                lambda i=i: sh(["ip", "link", "del", self.host_if[i]], check=False),
            )
            sh(["ip", "link", "add", self.host_if[i], "type", "veth", "peer", "name",
                self.ns_if[i]])
            sh(["ip", "link", "set", self.host_if[i], "master", self.bridge])
            sh(["ip", "link", "set", self.host_if[i], "up"])
            sh(["ip", "link", "set", self.ns_if[i], "netns", ns])
            sh(["ip", "-n", ns, "addr", "add", f"{self.addr[i]}/24", "dev", self.ns_if[i]])
            sh(["ip", "-n", ns, "link", "set", self.ns_if[i], "up"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])

    def holds_vip(self, i):
        out = sh(["ip", "-n", self.ns[i], "-4", "addr", "show"], check=False).stdout
        return f"inet {self.vip}/" in out


# ---------------------------------------------------------------------------------------
# HAProxy and keepalived configuration


def haproxy_config(bind, servers, balancer_name=None):
    lines = [
        "global",
        "    maxconn 512",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 15s",
        "    timeout server 15s",
        "    retries 3",
        "    option redispatch",
        "frontend api",
        f"    bind {bind}",
        "    default_backend tocsin",
        "backend tocsin",
        "    balance roundrobin",
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        "    default-server inter 500ms fall 2 rise 2",
        # Which instance answered, so the test can see both serve.
        "    http-response set-header X-Backend %s",
    ]
    if balancer_name:
        lines.append(f"    http-response set-header X-Balancer {balancer_name}")
    lines += [f"    server {name} {addr} check" for name, addr in servers]
    return "\n".join(lines) + "\n"


def keepalived_config(net, i, check_script):
    peer = 2 if i == 1 else 1
    rid = 50 + os.getpid() % 200
    return f"""global_defs {{
    router_id {net.tag}_lb{i}
    script_user root
    enable_script_security
}}
vrrp_script chk_haproxy {{
    script "{check_script}"
    interval 1
    timeout 1
    fall 1
    rise 2
}}
vrrp_instance api {{
    state {"MASTER" if i == 1 else "BACKUP"}
    interface {net.ns_if[i]}
    virtual_router_id {rid}
    priority {150 if i == 1 else 100}
    advert_int 1
    unicast_src_ip {net.addr[i]}
    unicast_peer {{
        {net.addr[peer]}
    }}
    virtual_ipaddress {{
        {net.vip}/24 dev {net.ns_if[i]}
    }}
    track_script {{
        chk_haproxy
    }}
}}
"""


# ---------------------------------------------------------------------------------------
# tocsin


class Instance:
    def __init__(self, name, binary, listen_host, env, log_dir):
        self.name, self.binary, self.env, self.log_dir = name, binary, env, log_dir
        self.port = free_port()
        self.addr = f"{listen_host}:{self.port}"
        self.base = f"http://{self.addr}"
        self.proc = None

    def start(self):
        env = dict(self.env, TOCSIN_LISTEN=self.addr)
        self.proc = spawn(f"tocsin-{self.name}", [self.binary, "serve"], self.log_dir, env)

    def ready(self, timeout):
        def check():
            if self.proc.poll() is not None:
                raise SetupError(f"tocsin {self.name} exited with {self.proc.returncode}")
            return http("GET", f"{self.base}/readyz", timeout=1)[0] == 200

        return wait_for(f"tocsin {self.name} ready", check, timeout)[1]

    def checks_total(self):
        status, _, body = http("GET", f"{self.base}/metrics", timeout=2)
        if status != 200:
            return None
        total = 0.0
        for m in re.finditer(r"^tocsin_checks_total\{[^}]*\}\s+(\S+)", body.decode(), re.M):
            total += float(m.group(1))
        return total


# ---------------------------------------------------------------------------------------
# The picture


class Picture:
    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="tocsin-ha-")
        os.chmod(self.tmp, 0o755)  # postgres must reach its folder inside
        if not args.keep:
            CLEAN.add("remove the temp dir", lambda: shutil.rmtree(self.tmp, ignore_errors=True))
        self.logs = os.path.join(self.tmp, "logs")
        os.makedirs(self.logs)
        self.net = None
        self.net_error = None

    # -- building ------------------------------------------------------------------------

    def build_network(self):
        if shutil.which("keepalived") is None:
            self.net_error = "keepalived is not installed"
            return
        try:
            Net.remove_stale()
            net = Net()
            net.up()
            self.net = net
            R.ok("network", f"bridge {net.bridge} {net.host}/24, namespaces "
                 f"{net.ns[1]} ({net.addr[1]}) and {net.ns[2]} ({net.addr[2]}), VIP {net.vip}")
        except SetupError as e:
            self.net_error = str(e)
            R.skip("network", f"namespaces refused, the VIP part will be skipped: {e}")

    def build_redis(self):
        self.prefix = f"tocsin-ha-{os.getpid()}-{secrets.token_hex(4)}"
        if shutil.which("redis-server"):
            port = free_port()
            self.redis = spawn(
                "redis",
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.tmp],
                self.logs,
            )
            self.redis_url = f"redis://127.0.0.1:{port}"
            wait_for(
                "redis",
                lambda: sh(["redis-cli", "-p", str(port), "ping"], check=False).stdout.strip()
                == "PONG",
                timeout=10,
            )
        else:  # the machine's Redis, under a key prefix of our own
            self.redis_url = os.environ.get("TOCSIN_TEST_REDIS_URL", "redis://127.0.0.1:6379")

            def forget():
                keys = sh(["redis-cli", "-u", self.redis_url, "--scan", "--pattern",
                           f"{self.prefix}*"], check=False).stdout.split()
                if keys:
                    sh(["redis-cli", "-u", self.redis_url, "del", *keys], check=False)

            if shutil.which("redis-cli"):
                CLEAN.add("delete the Redis keys", forget)
        R.ok("redis", f"{self.redis_url}, prefix {self.prefix}")

    def build_instances(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        env.update(
            TOCSIN_DATABASE_URL=self.pg.url(),
            TOCSIN_REDIS_URL=self.redis_url,
            TOCSIN_REDIS_PREFIX=self.prefix,
            TOCSIN_FLUSH_INTERVAL="1s",
            TOCSIN_ALLOW_PRIVATE_TARGETS="true",
            TOCSIN_MIN_INTERVAL="1s",
            TOCSIN_JWT_SECRET=secrets.token_hex(32),
            TOCSIN_AUTH_RATE_PER_MINUTE="0",
            TOCSIN_LOG="info",
        )
        host = self.net.host if self.net else "127.0.0.1"
        self.inst = [Instance(n, self.args.tocsin, host, env, self.logs) for n in ("a", "b")]
        for i in self.inst:
            i.start()
        for i in self.inst:
            took = i.ready(60)
            R.ok(f"tocsin {i.name}", f"ready on {i.addr} in {took:.1f}s")

    def build_haproxy(self):
        port = free_port()
        conf = os.path.join(self.tmp, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write(haproxy_config(f"127.0.0.1:{port}", [(i.name, i.addr) for i in self.inst]))
        self.haproxy = spawn("haproxy", ["haproxy", "-db", "-f", conf], self.logs)
        self.lb = f"http://127.0.0.1:{port}"
        _, took = wait_for("HAProxy", status_is("GET", f"{self.lb}/readyz", 200), 15)
        R.ok("haproxy", f"127.0.0.1:{port} answers /readyz in {took:.1f}s")

    # -- helpers -------------------------------------------------------------------------

    def api(self, method, path, body=None, timeout=5.0):
        return http(method, f"{self.lb}{path}", body=body, token=self.token, timeout=timeout)

    def create_monitor(self, n):
        path = f"/t/{n}"
        status, _, body = self.api(
            "POST", "/api/v1/monitors",
            {"url": f"http://127.0.0.1:{self.target.port}{path}", "interval_seconds": PERIOD},
        )
        if status != 201:
            return None
        monitor = json.loads(body)
        self.monitors[path] = monitor["id"]
        return monitor

    def results(self, monitor_id):
        """Every stored checked_at of a monitor, through the API; None on an error."""
        seen, before = [], None
        while True:
            q = f"/api/v1/monitors/{monitor_id}/results?limit=1000"
            if before:
                q += f"&before={urllib.request.quote(before)}"
            status, _, body = self.api("GET", q)
            if status != 200:
                return None
            page = json.loads(body)
            seen += [r["checked_at"] for r in page["results"]]
            before = page.get("next_before")
            if not before or not page["results"]:
                return seen

    def checks_per_instance(self):
        return {i.name: i.checks_total() for i in self.inst}

    def grid_gaps(self, path, since=-1e9, until=1e9):
        """The gaps between a path's hits on its grid: the first check of a new monitor is
        at once and its second falls on the monitor's own phase of the grid, 0.5 to 1.5
        periods later (issue 17: monitors made together spread out), so the gap after the
        very first hit is not a period and is left out."""
        times = self.target.times(path)
        first = times[0] if times else None
        hits = [t for t in times if since <= t <= until]
        return [b - a for a, b in zip(hits, hits[1:]) if a != first]

    def doubles(self, path, since=-1e9, until=1e9):
        """Hits closer than 1.5 s to the previous one: a due time checked twice."""
        return sum(1 for g in self.grid_gaps(path, since, until) if g < 1.5)

    # -- a. one check per period ---------------------------------------------------------

    def step_a(self):
        email = f"ha-{secrets.token_hex(4)}@example.com"
        creds = {"email": email, "password": "correct horse battery"}
        status, _, body = http("POST", f"{self.lb}/api/v1/auth/register", creds)
        if status != 201:
            raise SetupError(f"register answered {status}: {body[:200]!r}")
        status, _, body = http("POST", f"{self.lb}/api/v1/auth/login", creds)
        if status != 200:
            raise SetupError(f"login answered {status}: {body[:200]!r}")
        self.token = json.loads(body)["token"]
        # The token from one instance works on the other (same secret).
        backends = set()
        for _ in range(4):
            status, headers, _ = self.api("GET", "/api/v1/monitors")
            if status == 200:
                backends.add(headers.get("X-Backend"))
        R.expect(backends == {"a", "b"}, "a. one token, both instances",
                 f"GET /monitors answered 200 by {sorted(b for b in backends if b)}")
        for n in range(1, MONITORS + 1):
            if not self.create_monitor(n):
                raise SetupError(f"creating monitor {n} failed")
        R.ok("a. monitors", f"{MONITORS} monitors every {PERIOD}s against "
             f"127.0.0.1:{self.target.port}/t/1..{MONITORS}")
        before = self.checks_per_instance()
        time.sleep(3)  # first checks land within a second, then the grid
        w0, window = now(), 12.0
        time.sleep(window)
        after = self.checks_per_instance()
        hi, lo = math.ceil(window / PERIOD) + 1, math.floor(window / PERIOD) - 1
        counts, worst = {}, {}
        for path in self.monitors:
            counts[path] = len(self.target.times(path, w0, w0 + window))
            worst[path] = min(self.grid_gaps(path), default=99)
        R.expect(all(lo <= c <= hi for c in counts.values()), "a. one check per period",
                 f"hits per path in {window:.0f}s: {list(counts.values())} (want {lo}..{hi})")
        R.expect(all(g >= 1.5 for g in worst.values()), "a. no doubles",
                 f"smallest gap per path: {[round(g, 2) for g in worst.values()]}s (want >= 1.5)")
        split = {k: round(after[k] - before[k]) if after[k] is not None and before[k] is not None
                 else None for k in after}
        # Not asserted: whichever instance polls first after a due time enters the claim
        # horizon takes it, so with few monitors one instance may take them all for a while.
        R.info("a. checks per instance", f"in the window: {split}")

    # -- b. kill -9 one instance ---------------------------------------------------------

    def step_b(self):
        # Die with claims in hand: claims reach a second ahead, so kill a few tenths of a
        # second before a due time (the monitors were created within a blink), and kill the
        # instance that ran the latest round, which likely holds the next one's claims.
        due = max(self.target.times(p)[-1] for p in self.monitors) + PERIOD
        time.sleep(max(0, due - 0.6 - now()))
        before = self.checks_per_instance()
        time.sleep(max(0, due + 0.5 - now()))
        after = self.checks_per_instance()
        ran = {i.name: (after[i.name] or 0) - (before[i.name] or 0) for i in self.inst}
        victim = max(self.inst, key=lambda i: ran[i.name])
        self.victim = victim
        time.sleep(max(0, due + PERIOD - 0.3 - now()))
        t_kill = self.t_kill = now()
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(5)
        R.info("b. kill -9", f"tocsin {victim.name} (pid {victim.proc.pid}), which ran "
               f"{ran[victim.name]:.0f} of the {sum(ran.values()):.0f} checks of the last round")
        try:
            (_, took) = wait_for(
                "API through HAProxy",
                lambda: self.api("GET", "/api/v1/monitors", timeout=2)[0] == 200, 10, 0.2)
            R.ok("b. API answers", f"GET /api/v1/monitors 200 through HAProxy after {took:.2f}s")
        except TimeoutError as e:
            R.fail("b. API answers", str(e))
        statuses = [self.api("GET", "/api/v1/monitors", timeout=3)[0] for _ in range(10)]
        R.expect(all(s == 200 for s in statuses), "b. API keeps answering",
                 f"10 GETs right after: {statuses}")
        start = t_kill + 2 * PERIOD + 3
        end = start + 10
        time.sleep(max(0, end - now()))
        limit = 2 * PERIOD + 1
        per_path = {p: max_gap(self.target.times(p), start, end) for p in self.monitors}
        R.expect(all(g <= limit for g in per_path.values()), "b. every path checked each period",
                 f"longest gap per path from kill+{2 * PERIOD + 3}s: "
                 f"{[round(g, 1) for g in per_path.values()]}s (want <= {limit})")
        # Issue 5: a dead instance's monitors are checked by the others from their next due
        # time, so the due times it had claimed are lost but nothing more.
        across = {p: max_gap(self.target.times(p), t_kill - PERIOD, end) for p in self.monitors}
        R.expect(all(g <= limit for g in across.values()), "b. across the kill",
                 f"longest gap per path: {[round(g, 1) for g in across.values()]}s "
                 f"(want <= {limit})")
        victim.start()
        took = victim.ready(60)

        def both_serve():
            seen = {self.api("GET", "/readyz", timeout=2)[1].get("X-Backend") for _ in range(4)}
            return {"a", "b"} <= seen

        try:
            _, took2 = wait_for("both behind HAProxy", both_serve, 15, 0.3)
            R.ok("b. restarted", f"tocsin {victim.name} ready in {took:.1f}s, "
                 f"both serving through HAProxy {took2:.1f}s later")
        except TimeoutError as e:
            R.fail("b. restarted", str(e))

    # -- c. failover to the standby ------------------------------------------------------

    def step_c(self):
        before_checks = self.checks_per_instance()
        time.sleep(4)
        after_checks = self.checks_per_instance()
        R.info("c. checks per instance", "in 4s after the restart: " + str(
            {k: round((after_checks[k] or 0) - (before_checks[k] or 0)) for k in after_checks}))
        doubles_before = {p: self.doubles(p) for p in self.monitors}
        R.expect(not any(doubles_before.values()), "c. no doubles so far (a and b)",
                 f"hits < 1.5s apart per path: {list(doubles_before.values())}")
        stored_before = {p: self.results(m) for p, m in self.monitors.items()}
        if any(v is None for v in stored_before.values()):
            raise SetupError("reading results before the failover failed")
        R.info("c. stored before", f"results per monitor: "
               f"{[len(v) for v in stored_before.values()]}")

        t_stop = now()
        self.pg.ctl(self.pg.primary, "-m", "fast", "-w", "-t", "30", "stop")
        R.info("c. primary stopped", f"pg_ctl stop -m fast took {now() - t_stop:.1f}s")
        try:
            _, took = wait_for("/readyz 503 through HAProxy",
                               status_is("GET", f"{self.lb}/readyz", 503, timeout=2), 10, 0.1)
            R.ok("c. outage seen", f"/readyz 503 through HAProxy {now() - t_stop:.1f}s after "
                 f"the stop")
        except TimeoutError as e:
            R.fail("c. outage seen", str(e))
        # A failover manager takes a few seconds to decide: checks must go on meanwhile.
        time.sleep(max(0, t_stop + OUTAGE - now()))
        alive = [http("GET", f"{i.base}/healthz", timeout=2)[0] for i in self.inst]
        R.expect(alive == [200, 200], "c. instances alive without a database",
                 f"/healthz {alive} {now() - t_stop:.1f}s into the outage")
        t_promote = now()
        self.pg.ctl(self.pg.standby, "-w", "-t", "30", "promote")
        R.info("c. standby promoted", f"pg_ctl promote took {now() - t_promote:.1f}s")
        t_promoted = now()
        try:
            _, took = wait_for("/readyz through HAProxy",
                               status_is("GET", f"{self.lb}/readyz", 200, timeout=2), 20, 0.2)
            R.ok("c. /readyz 200 through HAProxy", f"{took:.1f}s after the promotion")
        except TimeoutError as e:
            R.fail("c. /readyz 200 through HAProxy", str(e))
        ready_at = {}
        for inst in self.inst:
            try:
                _, took = wait_for(
                    f"tocsin {inst.name} /readyz",
                    status_is("GET", f"{inst.base}/readyz", 200, timeout=2),
                    max(0.5, t_promoted + 20 - now()), 0.2)
                ready_at[inst.name] = now()
                R.expect(now() - t_promoted <= 15, f"c. tocsin {inst.name} reconnected",
                         f"{now() - t_promoted:.1f}s after the promotion")
            except TimeoutError as e:
                R.fail(f"c. tocsin {inst.name} reconnected", str(e))
        try:
            _, took = wait_for("a new monitor", lambda: self.create_monitor(MONITORS + 1),
                               15, 0.3)
            R.ok("c. new monitor created", f"/t/{MONITORS + 1}, {now() - t_promoted:.1f}s "
                 f"after the promotion")
        except TimeoutError as e:
            R.fail("c. new monitor created", str(e))

        recovered = max(ready_at.values(), default=now())
        start, end = recovered + 3, recovered + 13
        time.sleep(max(0, end - now()))
        limit = 2 * PERIOD + 1
        old = [p for p in self.monitors if p != f"/t/{MONITORS + 1}"]
        through = {p: max_gap(self.target.times(p), t_stop - PERIOD, end) for p in old}
        R.expect(all(g <= limit for g in through.values()), "c. checks go on through the failover",
                 f"longest gap per path from the stop: "
                 f"{[round(g, 1) for g in through.values()]}s (want <= {limit})")
        after = {p: max_gap(self.target.times(p), start, end) for p in self.monitors}
        R.expect(all(g <= limit for g in after.values()), "c. every path checked after it",
                 f"longest gap per path, new one last: "
                 f"{[round(g, 1) for g in after.values()]}s (want <= {limit})")
        outage = {p: self.doubles(p, t_stop - 0.1, start) for p in self.monitors}
        R.info("c. doubles during the outage",
               f"hits < 1.5s apart per path (documented: each instance goes on with what it "
               f"claimed last): {list(outage.values())}")
        settled = {p: self.doubles(p, start, end) for p in self.monitors}
        R.expect(not any(settled.values()), "c. no doubles once reconnected",
                 f"hits < 1.5s apart per path from {start - t_promoted:.0f}s after the "
                 f"promotion: {list(settled.values())}")

        # Stop checking, then every hit must have its result in the database. A pause made
        # through HAProxy reaches the other instance's claimed checks by LISTEN/NOTIFY, so
        # no path is hit after its pause answered (0.3 s for a check already in flight).
        paused_at = {}
        for p, m in self.monitors.items():
            status, _, _ = self.api("POST", f"/api/v1/monitors/{m}/pause")
            if status != 200:
                R.fail("c. pause", f"monitor {m}: {status}")
            paused_at[p] = now()
        time.sleep(PERIOD + 1)  # anything claimed before the pause would have fired by now
        late = {p: [round(t - paused_at[p], 2) for t in self.target.times(p, paused_at[p] + 0.3)]
                for p in self.monitors}
        R.expect(not any(late.values()), "c. no check after a pause",
                 "seconds after each path's pause answered, per path: "
                 f"{list(late.values())}")
        outcome = {}

        def complete():
            for p, m in self.monitors.items():
                stored = self.results(m)
                if stored is None:
                    return False
                lost, orphans = pair(self.target.hits_with_walls(p), stored)
                # kill -9 loses a check in flight: a hit in the second before the kill.
                lost = [h for h in lost if not self.t_kill - 1 <= h[0] <= self.t_kill]
                outcome[p] = (len(self.target.times(p)), len(stored), lost, orphans, stored)
                if lost:
                    return False
            return True

        try:
            _, took = wait_for("every result stored", complete, 20, 1.0)
            R.ok("c. every hit has its result", f"after {took:.1f}s; hits/results per path: " +
                 ", ".join(f"{o[0]}/{o[1]}" for o in outcome.values()))
        except TimeoutError:
            R.fail("c. every hit has its result", "hits/results per path, then lost hits: " +
                   ", ".join(f"{o[0]}/{o[1]}" for o in outcome.values()) + "; " +
                   str({p: [round(h[0], 2) for h in o[2]] for p, o in outcome.items() if o[2]}))
        orphans = {p: len(o[3]) for p, o in outcome.items() if o[3]}
        R.expect(not orphans, "c. no result without a hit", str(orphans) if orphans else "")
        gone = {p: len(set(stored_before[p]) - set(outcome[p][4]))
                for p in stored_before if p in outcome}
        R.expect(not any(gone.values()), "c. results from before the failover kept",
                 f"{sum(len(v) for v in stored_before.values())} results read before the stop; "
                 f"gone per path: {list(gone.values())}")

    # -- d. the virtual IP ---------------------------------------------------------------

    def step_d(self):
        if not self.net:
            R.skip("d. virtual IP", self.net_error or "no network")
            return
        net = self.net
        port = 8080
        self.lbs = {}
        for i in (1, 2):
            conf = os.path.join(self.tmp, f"haproxy-lb{i}.cfg")
            with open(conf, "w") as f:
                f.write(haproxy_config(f"0.0.0.0:{port}", [(x.name, x.addr) for x in self.inst],
                                       balancer_name=f"lb{i}"))
            self.lbs[i] = spawn(f"haproxy-lb{i}",
                                ["ip", "netns", "exec", net.ns[i], "haproxy", "-db", "-f", conf],
                                self.logs)
        for i in (1, 2):
            url = f"http://{net.addr[i]}:{port}/healthz"
            try:
                wait_for(f"haproxy lb{i}", status_is("GET", url, 200, timeout=1), 10, 0.2)
            except TimeoutError as e:
                R.skip("d. virtual IP", f"lb{i}'s HAProxy unreachable at {url}: {e}")
                return
        R.ok("d. balancers", f"HAProxy in {net.ns[1]} and {net.ns[2]} answer on :{port}")
        for i in (1, 2):
            script = os.path.join(self.tmp, f"chk-haproxy-lb{i}.sh")
            with open(script, "w") as f:
                # Inside the balancer's namespace: is HAProxy there and answering?
                f.write(f"#!/bin/bash\nexec timeout 1 bash -c "
                        f"'exec 3<>/dev/tcp/127.0.0.1/{port}'\n")
            os.chmod(script, 0o755)
            conf = os.path.join(self.tmp, f"keepalived-lb{i}.conf")
            with open(conf, "w") as f:
                f.write(keepalived_config(net, i, script))
            pid = os.path.join(self.tmp, f"keepalived-lb{i}")
            spawn(f"keepalived-lb{i}",
                  ["ip", "netns", "exec", net.ns[i], "keepalived", "-n", "-l", "-D", "-f", conf,
                   "-p", f"{pid}.pid", "-r", f"{pid}-vrrp.pid", "-c", f"{pid}-checkers.pid"],
                  self.logs)
        vip = f"http://{net.vip}:{port}/healthz"

        def through(name):
            def check():
                status, headers, _ = http("GET", vip, timeout=1)
                return status == 200 and headers.get("X-Balancer") == name
            return check

        try:
            _, took = wait_for("VIP through lb1", through("lb1"), 20, 0.2)
            R.ok("d. VIP answers through lb1", f"{net.vip}:{port} in {took:.1f}s")
        except TimeoutError as e:
            R.fail("d. VIP answers through lb1", f"{e}; lb1 holds it: {net.holds_vip(1)}, "
                   f"lb2 holds it: {net.holds_vip(2)}")
            return
        time.sleep(2)  # lb2 must have settled as BACKUP, not as a second MASTER
        R.expect(net.holds_vip(1) and not net.holds_vip(2), "d. one holder",
                 f"lb1 holds the VIP: {net.holds_vip(1)}, lb2: {net.holds_vip(2)}")
        token_ok = http("GET", f"http://{net.vip}:{port}/api/v1/monitors",
                        token=self.token)[0] == 200
        R.expect(token_ok, "d. API through the VIP", "GET /api/v1/monitors 200")
        t_stop = now()
        stop_process(self.lbs[1], signal.SIGKILL)
        R.info("d. lb1's HAProxy killed", "its keepalived check script now fails")
        try:
            _, took = wait_for("VIP through lb2", through("lb2"), 15, 0.1)
            R.ok("d. VIP answers through lb2", f"{now() - t_stop:.1f}s after lb1's HAProxy died")
            R.expect(net.holds_vip(2) and not net.holds_vip(1), "d. VIP moved",
                     f"lb1 holds it: {net.holds_vip(1)}, lb2: {net.holds_vip(2)}")
        except TimeoutError as e:
            R.fail("d. VIP answers through lb2", f"{e}; lb1 holds it: {net.holds_vip(1)}, "
                   f"lb2 holds it: {net.holds_vip(2)}")

    # -- all -----------------------------------------------------------------------------

    def run(self):
        R.info("temp dir", self.tmp)
        self.build_network()
        self.pg = Postgres(self.tmp)
        t = now()
        self.pg.start()
        R.ok("postgres", f"primary 127.0.0.1:{self.pg.p1}, streaming standby "
             f"127.0.0.1:{self.pg.p2} in {now() - t:.1f}s")
        self.build_redis()
        self.target = Target()
        R.ok("target", f"127.0.0.1:{self.target.port} counting hits per path")
        self.build_instances()
        self.build_haproxy()
        self.monitors = {}
        self.token = None
        self.step_a()
        self.step_b()
        self.step_c()
        self.step_d()


def print_logs():
    for name, path in LOGS.items():
        try:
            with open(path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()[-40:]
        except OSError:
            continue
        print(f"----- {name} ({path}), last {len(lines)} lines -----")
        for line in lines:
            print(f"  {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tocsin", required=True, help="the tocsin binary")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("tests/ha needs root (network namespaces, running PostgreSQL as postgres)")
        return 2

    def interrupted(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, interrupted)
    error = None
    try:
        Picture(args).run()
    except (SetupError, TimeoutError) as e:
        error = str(e)
        R.fail("setup", error)
    except SystemExit:
        R.fail("interrupted")
        raise
    finally:
        if R.failures:
            print_logs()
        CLEAN.run()
    print(f"[{now():6.1f}s] {len(R.failures)} failed, {len(R.skipped)} skipped")
    for f in R.failures:
        print(f"  FAIL {f}")
    for s in R.skipped:
        print(f"  skip {s}")
    return 1 if R.failures else 0


if __name__ == "__main__":
    sys.exit(main())
