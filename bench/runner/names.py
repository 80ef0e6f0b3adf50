"""Real targets have names (issue 17, item 7): every other engine scenario checks a literal
127.0.0.1, so resolving costs nothing there, while users' monitors resolve a name on every
check. Here each monitor checks a name of its own (`m<N>.bench.test`), served by
`tocsin-bench dns-serve` on a loopback address with a TTL of 0, and the same sizes are run
with literal addresses in the same run, so the cost of resolution is a ratio.

tocsin resolves with its own asynchronous stub resolver (src/probe/names.rs), configured
from /etc/resolv.conf; the TTL of 0 keeps its cache out of the way, so every check asks
the server. That file cannot name a port: the DNS server listens on port 53 of 127.0.0.153, and tocsin runs in a
mount namespace of its own (`unshare --mount`) where a private resolv.conf naming it is
bind-mounted over /etc/resolv.conf, so the machine's resolver is never touched. Both need
root (bench/run runs as root); without it, or without `unshare`, the scenario says why and
measures nothing."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from common import RUNS, TOOLS, env_list, env_int, log, median_dicts, nginx
from engine import load_run, seed

DNS_ADDRESS = "127.0.0.153"
ZONE = "bench.test"
# Runs the server (the last arguments) with the private resolv.conf ($0) over the real one.
BIND_RESOLV = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'


def unavailable():
    """Why the scenario cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root: a DNS server on port 53 and a mount namespace for resolv.conf"
    if not shutil.which("unshare"):
        return "needs unshare (util-linux) to give tocsin its own /etc/resolv.conf"
    return None


def run():
    """Runs the names scenario; returns its results."""
    why = unavailable()
    if why:
        log(f"names: skipped: {why}")
        return {"skipped": why}
    sizes = [tuple(map(int, s.split(":"))) for s in
             env_list("BENCH_NAMES_SIZES", "1000:10 10000:10", "1000:10")]
    seconds = env_int("BENCH_ENGINE_SECS", 60, 8)
    warmup = env_int("BENCH_ENGINE_WARMUP", 5, 2)
    out = {"sizes": [], "duration_s": seconds, "dns_server": f"{DNS_ADDRESS}:53"}
    with tempfile.TemporaryDirectory(prefix="bench-names-") as work, nginx() as url:
        resolv = Path(work) / "resolv.conf"
        # One attempt, a short timeout: a lost answer shows up as a failed check, not a retry.
        resolv.write_text(f"nameserver {DNS_ADDRESS}\noptions timeout:1 attempts:1\n")
        wrap = ["unshare", "--mount", "--", "sh", "-c", BIND_RESOLV, str(resolv)]
        port = urlsplit(url).port
        named = f"http://m{{n}}.{ZONE}:{port}/"
        dns = subprocess.Popen([str(TOOLS), "dns-serve", "--listen", f"{DNS_ADDRESS}:53",
                                "--zone", ZONE, "--answer", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(0.5)
            if dns.poll() is not None:
                raise RuntimeError(f"dns-serve exited: {dns.stderr.read().decode()}")
            for count, interval in sizes:
                literal_db, _ = seed(work, f"literal-{count}", count, interval, url)
                names_db, _ = seed(work, f"names-{count}", count, interval, named)
                literal, names = [], []
                for n in range(RUNS):
                    log(f"names run {n + 1}/{RUNS}: {count} monitors every {interval}s, "
                        "literal then named")
                    literal.append(load_run(literal_db, count, interval, seconds, warmup))
                    names.append(load_run(names_db, count, interval, seconds, warmup, wrap))
                row = {"literal": median_dicts(literal), "names": median_dicts(names)}
                cpu_literal = row["literal"].get("cpu_ms_per_check")
                cpu_names = row["names"].get("cpu_ms_per_check")
                row["cpu_ratio_names_to_literal"] = (
                    cpu_names / cpu_literal if cpu_literal and cpu_names else None)
                out["sizes"].append(row)
        finally:
            dns.terminate()
            dns.wait(10)
    return out
