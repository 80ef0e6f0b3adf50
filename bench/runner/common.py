"""What every scenario shares: settings from the environment, processes (nginx, tocsin, wrk,
the tools binary), /proc readings, the Prometheus text format and medians."""

import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0", "false")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TOCSIN = Path(os.environ.get("TOCSIN_BIN", TARGET_DIR / "release" / "tocsin"))
TOOLS = Path(os.environ.get("TOCSIN_BENCH_BIN", TARGET_DIR / "release" / "tocsin-bench"))
NGINX = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env_int(name, default, quick=None):
    """An integer setting: the variable if set, else the quick or the full default."""
    raw = os.environ.get(name)
    if raw:
        return int(raw)
    return quick if (QUICK and quick is not None) else default


def env_list(name, default, quick=None):
    """A space-separated setting, as a list of strings."""
    raw = os.environ.get(name)
    if raw:
        return raw.split()
    return (quick if (QUICK and quick is not None) else default).split()


def log(*parts):
    """Progress on stderr, so stdout stays clean."""
    print("[bench]", *parts, flush=True, file=os.sys.stderr)


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """User + system CPU time of a live process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    """Resident memory of a live process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def median(values):
    """The median of the numbers among `values` (None when there are none)."""
    numbers = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(numbers) if numbers else None


def median_dicts(runs):
    """Key by key median of several runs' dicts; non-numeric values come from the first run."""
    if not runs:
        return {}
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = median([r.get(key) for r in runs])
    out["runs"] = len(runs)
    return out


def ratio(measured, target):
    """measured / target, or None."""
    if measured is None or not target:
        return None
    return measured / target


@contextlib.contextmanager
def nginx(keepalive=False):
    """A local nginx on a free port answering `200 ok` to everything, keep-alive off by
    default so every client request needs a fresh connection. Yields its URL."""
    workers = env_int("BENCH_NGINX_WORKERS", 1)
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_timeout {"65" if keepalive else "0"};
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
""")
        proc = subprocess.Popen([NGINX, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"])
        try:
            wait_http(f"http://127.0.0.1:{port}/", 10)
            yield f"http://127.0.0.1:{port}/"
        finally:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_http(url, timeout):
    """Waits until `url` answers anything over HTTP."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout}s")
            time.sleep(0.1)


class Tocsin:
    """A `tocsin serve` child process on a free port; a context manager."""

    def __init__(self, database_url, wrap=(), **env):
        """`wrap` is a command that runs the server as its last arguments (the names
        scenario runs it in a mount namespace with its own /etc/resolv.conf)."""
        self.wrap = list(wrap)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update({
            "TOCSIN_LISTEN": f"127.0.0.1:{self.port}",
            "TOCSIN_DATABASE_URL": database_url,
            "TOCSIN_ALLOW_PRIVATE_TARGETS": "true",
            "TOCSIN_MIN_INTERVAL": "1s",
            "TOCSIN_AUTH_RATE_PER_MINUTE": "0",
            "TOCSIN_MAX_MONITORS_PER_USER": "100000000",
            "TOCSIN_MAX_IN_FLIGHT": "20000",
            "TOCSIN_JWT_TTL": "2h",
            "TOCSIN_LOG": "warn",
        })
        self.env.update({k: str(v) for k, v in env.items()})
        self.proc = None

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([*self.wrap, str(TOCSIN), "serve"], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_http(self.base + "/healthz", 60)
        except RuntimeError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        tail = self.log.read().decode(errors="replace")[-2000:]
        if tail.strip():
            log("tocsin said:", tail.strip())

    @property
    def pid(self):
        """The server's process id."""
        return self.proc.pid

    def metrics(self):
        """The /metrics text, parsed."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as answer:
            return parse_metrics(answer.read().decode())

    def call(self, method, path, body=None, token=None):
        """One JSON request; returns (status, parsed body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def login(self, email, password):
        """A v1 token for the account."""
        status, body = self.call("POST", "/api/v1/auth/login",
                                 {"email": email, "password": password})
        if status != 200:
            raise RuntimeError(f"login answered {status}: {body}")
        return body["token"]


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def parse_metrics(text):
    """Prometheus text → {(name, labels string): value}."""
    out = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match:
            name, labels, value = match.groups()
            try:
                out[(name, labels or "")] = float(value)
            except ValueError:
                pass
    return out


def metric_sum(metrics, name):
    """The sum of a metric over all its label sets."""
    return sum(v for (n, _), v in metrics.items() if n == name)


def histogram_delta(before, after, name):
    """[(upper bound, count)] of a histogram between two scrapes, cumulative buckets undone."""
    bounds = []
    for (n, labels), value in after.items():
        if n == name + "_bucket":
            le = re.search(r'le="([^"]+)"', labels).group(1)
            bound = float("inf") if le == "+Inf" else float(le)
            bounds.append((bound, value - before.get((n, labels), 0.0)))
    bounds.sort()
    out, previous = [], 0.0
    for bound, cumulative in bounds:
        out.append((bound, cumulative - previous))
        previous = cumulative
    return out


def histogram_quantile(buckets, q):
    """The q-quantile, interpolated linearly inside its bucket (as Prometheus does)."""
    total = sum(c for _, c in buckets)
    if total == 0:
        return None
    rank, seen, lower = q * total, 0.0, 0.0
    for bound, count in buckets:
        if seen + count >= rank and count > 0:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - seen) / count
        seen += count
        lower = bound if bound != float("inf") else lower
    return lower


def histogram_max(buckets):
    """The upper bound of the highest non-empty bucket (the histogram keeps no maximum)."""
    top = None
    for bound, count in buckets:
        if count > 0:
            top = bound
    return top


def run_tools(*args, timeout=None):
    """Runs the tools binary; returns (exit code, parsed JSON or None, stderr)."""
    proc = subprocess.run([str(TOOLS), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
    body = None
    if proc.stdout.strip():
        body = json.loads(proc.stdout.strip().splitlines()[-1])
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"tocsin-bench {args[0]} failed: {proc.stderr.strip()}")
    return proc.returncode, body, proc.stderr


def wrk(url, seconds, connections, threads=1, script=None, headers=(), env=None):
    """One wrk run; returns its JSON report (common.lua) plus the client's own CPU time,
    taken from the kernel's accounting of the child (wait4), per request."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(script or LUA / "plain.lua")]
    for header in headers:
        cmd += ["-H", header]
    cmd.append(url)
    full_env = dict(os.environ, BENCH_LUA=str(LUA), **(env or {}))
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    found = [line for line in text.splitlines() if line.startswith("BENCH_JSON ")]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text[-1500:]}")
    report = json.loads(found[-1][len("BENCH_JSON "):])
    cpu = usage.ru_utime + usage.ru_stime
    report["cpu_seconds"] = cpu
    report["cpu_us_per_request"] = 1e6 * cpu / max(report["requests"], 1)
    return report


def machine():
    """What the figures were measured on, and when, from which commit."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True,  # noqa: E731
                                    text=True).stdout.strip()
    # The suite's own outputs do not make the measured code dirty.
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".",
                     ":!BENCHMARKS.md", ":!bench/results", ":!bench/plots"))
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "commit": git("rev-parse", "--short=12", "HEAD") + (" (dirty)" if dirty else ""),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True,
                                text=True).stdout.strip(),
        "quick": QUICK,
        "runs": RUNS,
    }
