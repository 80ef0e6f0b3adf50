"""BENCHMARKS.md from bench/template.md and the results JSON: a table per scenario with the
issue's targets beside the measured values and their ratio, and the plots."""

from pathlib import Path

from common import BENCH, ROOT
import plots

TEMPLATE = BENCH / "template.md"
OUTPUT = ROOT / "BENCHMARKS.md"


def fmt(value, digits=1):
    """A number for a table: thousands separated, `–` when missing."""
    if value is None:
        return "–"
    if isinstance(value, float) and abs(value) < 10 and digits:
        return f"{value:.{max(digits, 2)}f}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def verdict(value, target, higher_is_better=True):
    """The ratio to the target and ✅/❌."""
    if value is None or target is None:
        return "–"
    r = value / target
    ok = r >= 1 if higher_is_better else r <= 1
    return f"{r:.2f} {'✅' if ok else '❌'}"


def table(header, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def stamp(section):
    """Where a section's figures come from (scenarios may be run separately)."""
    m = section.get("machine", {})
    mode = "QUICK smoke run" if m.get("quick") else f"median of {m.get('runs')} runs"
    return f"*{mode}, commit `{m.get('commit')}`, {m.get('date')}, load average {' '.join(m.get('loadavg', []))} at start.*"


def engine(r):
    """The engine section."""
    c = r["ceiling"]
    rows = []
    for s in r["sizes"]:
        # The targets: ≤ 3 × wrk below 1,000 checks/s, ≤ 1.5 × from 1,000 to 10,000.
        cpu_target = 3 if s["target_checks_per_s"] < 1000 else 1.5
        rows.append([fmt(s["monitors"], 0), s["interval_s"], fmt(s["target_checks_per_s"], 0),
                     fmt(s["checks_per_s"]), fmt(s["lateness_p50_ms"], 2),
                     fmt(s["lateness_p99_ms"], 2), fmt(s["lateness_max_ms"], 2),
                     fmt(s["cpu_s_per_1000_checks"], 3), fmt(s["cpu_ratio_to_wrk"], 2),
                     f"≤ {cpu_target}: " + verdict(s["cpu_ratio_to_wrk"], cpu_target, False),
                     fmt(s["rss_kib_per_idle_monitor"], 2),
                     verdict(s["rss_kib_per_idle_monitor"], 2, False),
                     fmt(s["rss_loaded_mib"]), fmt(s["failed_checks"], 0), fmt(s["skipped"], 0)])
    sizes = table(["monitors", "interval s", "target checks/s", "checks/s", "lateness p50 ms",
                   "p99 ms", "max ms (bucket ≤)", "CPU s / 1000 checks",
                   "CPU/check ÷ wrk CPU/req", "÷ target", "idle RSS KiB/monitor",
                   "÷ target (≤ 2 KiB)", "RSS loaded MiB", "failed", "skipped"], rows)
    ceiling = table(["wrk `Connection: close`", "measured", "field (issue)", "ratio"], [
        ["req/s", fmt(c["req_per_s"]), "~16,000", fmt(c["req_per_s"] / 16000, 2)],
        ["client CPU µs / request", fmt(c["cpu_us_per_request"], 2), "~60",
         fmt(c["cpu_us_per_request"] / 60, 2)]])
    ramp_rows, knee = [], None
    for s in r["ramp"]:
        ramp_rows.append([fmt(s["target_checks_per_s"], 0), fmt(s["monitors"], 0),
                          fmt(s["checks_per_s"]), fmt(s["lateness_p99_ms"], 2),
                          fmt(s["cpu_percent"], 0),
                          fmt((s["cpu_ms_per_check"] or 0) * 1000, 1),
                          fmt((s["cpu_ms_per_check"] or 0) * 1000 / c["cpu_us_per_request"], 2),
                          fmt(s["skipped"], 0), fmt(s.get("starved"), 0),
                          fmt(s["failed_checks"], 0),
                          "yes" if s["passed"] else "**no**"])
        if not s["passed"] and knee is None:
            knee = s["target_checks_per_s"]
    best = max([s["checks_per_s"] for s in r["ramp"] if s["passed"]], default=None)
    ramp = table(["target checks/s", "monitors", "checks/s", "lateness p99 ms", "CPU %",
                  "CPU µs/check", "÷ wrk CPU/req", "skipped", "of which starved", "failed",
                  "held: p99 < 200 ms, ≥ 99 % run, none failed"],
                 ramp_rows)
    past = next((s for s in r["ramp"] if not s["passed"]), None)
    summary = (f"Highest rate held: **{fmt(best)} checks/s** (target ≥ 5,000: "
               f"{verdict(best, 5000)}); " + (
                   f"one step past it, at {fmt(knee, 0)}/s, tocsin ran "
                   f"{fmt(past['checks_per_s'])} checks/s with p99 lateness "
                   f"{fmt(past['lateness_p99_ms'], 2)} ms, skipped "
                   f"{fmt(past['skipped'], 0)} (of which {fmt(past.get('starved'), 0)} "
                   f"starved) and reported {fmt(past['failed_checks'], 0)} failed."
                   if past else "the last step is still within the limit: add higher "
                   "BENCH_RAMP_RATES."))
    return "\n\n".join([stamp(r), f"Each load run: {r['duration_s']} s measured after warm-up.",
                        ceiling, sizes, "**Ramp** (one run per step)", ramp, summary,
                        plots.engine(r)])


def latency_row(name, w, target_rps=None):
    """One endpoint's row."""
    return [name, fmt(w["req_per_s"]), fmt(w["p50_ms"], 2), fmt(w["p95_ms"], 2),
            fmt(w["p99_ms"], 2), fmt(w["non_2xx"] + w["errors_connect"] + w["errors_read"], 0),
            fmt(target_rps, 0) if target_rps else "–", verdict(w["req_per_s"], target_rps)]


# Creating a monitor is a committed write and schedules its first check: its target is
# lower than the reads'.
CREATION_TARGET = 10000


def api(r):
    """The API section."""
    h = r["hash"]
    hashed = table(["argon2id (19 MiB, t=2, p=1)", "measured"], [
        ["hash time, median ms", fmt(h["median_ms"], 2)], ["cores", h["cores"]],
        ["ceiling = cores ÷ hash time, /s", fmt(h["ceiling_per_s"])]])
    rows = []
    for name in ("register", "login"):
        w = r[name]
        rows.append([f"POST /{name} ({r['users']} users)", fmt(w["req_per_s"]),
                     fmt(w["p50_ms"], 2), fmt(w["p95_ms"], 2), fmt(w["p99_ms"], 2),
                     fmt(w["non_2xx"] + w["errors_connect"] + w["errors_read"], 0),
                     f"≥ 0.95 × ceiling {fmt(h['ceiling_per_s'])}/s",
                     f"{w['ratio_to_ceiling']:.2f} × ceiling "
                     f"{'✅' if w['ratio_to_ceiling'] >= 0.95 else '❌'}"])
    for name, w in r["endpoints"].items():
        target = CREATION_TARGET if name.startswith("POST ") else 20000
        rows.append(latency_row(f"{name} ({r['connections']} conns)", w, target))
    seed = ("The seed measured 1,086 req/s and p95 21 ms for `/register` on a laptop with "
            f"plaintext passwords; here register is bound by argon2id, ratio to the seed: "
            f"{fmt(r['register']['req_per_s'] / 1086, 2)}.")
    return "\n\n".join([stamp(r), f"{r['duration_s']} s per wrk run.", hashed,
                        table(["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                               "target", "ratio"], rows), seed, plots.api(r)])


def batches(r):
    """The ingest batch sizes: `batch`, and the backlog's larger one if the run had it."""
    deep = r.get("deep_batch")
    if deep and deep > r["batch"]:
        return f"{r['batch']} (up to {deep} while that many wait)"
    return str(r["batch"])


def ingest(r):
    """The ingest section."""
    rows = [["tocsin → SQLite", fmt(r["sqlite"]["results_per_s"]), "≥ 20,000",
             verdict(r["sqlite"]["results_per_s"], 20000)]]
    pg, notes = r["postgres"], []
    if "skipped" in pg:
        notes.append(f"PostgreSQL skipped: {pg['skipped']}.")
    else:
        if "tocsin" in pg:
            rows.append(["tocsin → PostgreSQL", fmt(pg["tocsin"]["results_per_s"]),
                         "≥ 50,000", verdict(pg["tocsin"]["results_per_s"], 50000)])
        else:
            notes.append(f"tocsin → PostgreSQL skipped: {pg['tocsin_skipped']}.")
        rows.append(["`psql \\copy` (PostgreSQL's ceiling)", fmt(pg["copy"]["results_per_s"]),
                     "–", "–"])
        if pg.get("ratio_to_copy") is not None:
            notes.append(f"tocsin ÷ COPY: {pg['ratio_to_copy']:.2f}.")
    return "\n\n".join([stamp(r), f"{fmt(r['results'], 0)} results, batches of {batches(r)}.",
                        table(["path", "results/s", "target", "ratio"], rows), " ".join(notes),
                        plots.ingest(r)])


def history(r):
    """The history section."""
    rows = []
    for window, w in r["windows"].items():
        target = 10 if window == "365d" else None
        rows.append([f"stats?window={window}", fmt(w["req_per_s"]), fmt(w["p50_ms"], 2),
                     fmt(w["p95_ms"], 2), fmt(w["p99_ms"], 2),
                     "p95 < 10 ms" if target else "–",
                     verdict(w["p95_ms"], target, False) if target else "–"])
    s = r["seed"]
    setup = (f"{fmt(r['monitors'], 0)} monitors, {r['days']} days: "
             f"{fmt(s['rolled_up_results'], 0)} sparse results rolled into hourly rollups and "
             f"{fmt(s['raw_results'], 0)} raw results ({r['raw_hours']} h at 60 s); database "
             f"{fmt(r['database_mib'])} MiB, seeded in {fmt(s['seconds'])} s. "
             f"{r['connections']} connection(s), random monitors.")
    return "\n\n".join([stamp(r), setup,
                        table(["request", "req/s", "p50 ms", "p95 ms", "p99 ms", "target",
                               "ratio"], rows), plots.history(r)])


def scaleout(r):
    """The scale-out section: the main size, then each further size's table."""
    parts = [scaleout_size(r), plots.scaleout(r)]
    for more in r.get("more", []):
        first = more["steps"][0]
        parts.append(f"**At {fmt(first['target_checks_per_s'], 0)} checks/s** "
                     f"({fmt(first['monitors'], 0)} monitors every {first['interval_s']} s): "
                     "how evenly a low rate is shared, from the heartbeats' view of the "
                     "live instances.")
        parts.append(scaleout_size(more, with_stamp=False))
    return "\n\n".join(parts)


def scaleout_size(r, with_stamp=True):
    """One size's setup, steps and most called statements."""
    rows = []
    for s in r["steps"]:
        rows.append([s["instances"], fmt(s["checks_per_s"]),
                     fmt(s["checks_per_s"] / s["target_checks_per_s"], 2),
                     f"{fmt(s['instance_min_checks_per_s'], 0)}–"
                     f"{fmt(s['instance_max_checks_per_s'], 0)}",
                     fmt(s["lateness_p99_ms"], 2), fmt(s["statements_per_s"]),
                     fmt(s["statements_per_1000_checks"]), fmt(s["commits_per_s"]),
                     fmt(s["tocsin_cpu_s_per_1000_checks"], 3),
                     fmt(s["postgres_cpu_s_per_1000_checks"], 3),
                     fmt(s["window_stored_per_check"], 3),
                     f"{fmt(s['double_checks'], 0)} {'✅' if s['double_checks'] == 0 else '❌'}",
                     fmt(s["skipped"], 0), fmt(s["failed_checks"], 0)])
    steps = table(["instances", "checks/s", "÷ target", "per instance (min–max)",
                   "lateness p99 ms", "statements/s", "statements / 1000 checks", "commits/s",
                   "tocsin CPU s / 1000 checks", "PostgreSQL CPU s / 1000 checks",
                   "stored ÷ counted", "due times checked twice", "skipped", "failed"], rows)
    top = r["top_statements"]
    top_rows = [[fmt(t["calls"], 0), fmt(t["calls_per_1000_checks"]), fmt(t["rows_per_call"]),
                 fmt(t["mean_ms"], 3), "`" + t["query"].replace("|", "\\|") + "`"]
                for t in top["statements"]]
    first = r["steps"][0]
    seed = r["seed"]
    setup = (f"{fmt(first['monitors'], 0)} monitors every {first['interval_s']} s "
             f"({fmt(first['target_checks_per_s'], 0)} checks/s), seeded in "
             f"{fmt(seed['seconds'])} s; PostgreSQL {r['postgres_version']}, private cluster; "
             f"{r['buffer']} buffer; each step {r['warmup_s']} s of warm-up, then "
             f"{r['duration_s']} s measured. Database {fmt(r['database_mib'])} MiB at the end.")
    return "\n\n".join(([stamp(r)] if with_stamp else []) + [
        setup, steps, f"**Most called statements** with {top['instances']} instances "
        "(one window, normalized text shortened):",
        table(["calls", "per 1000 checks", "rows per call", "mean ms", "statement"],
              top_rows)])


def web(r):
    """The web section: the status page, and the dashboard list when measured."""
    page = r["status_page"]
    rows = []
    for name, w in page["requests"].items():
        target = 20 if name == "html" else None
        rows.append([name, fmt(w["req_per_s"]), fmt(w["p50_ms"], 2), fmt(w["p99_ms"], 2),
                     fmt(w["bytes"], 0), "p50 < 20 ms" if target else "–",
                     verdict(w["p50_ms"], target, False) if target else "–"])
    setup = (f"A status page of {page['monitors']} monitors with {page['days']} days of "
             f"hourly rollups and {page['raw_hours']} h of raw results at 60 s; "
             f"{r['connections']} connection(s) for {r['duration_s']} s per request, so "
             "the latency over loopback is the server's time per page. The server keeps a "
             "page's view for 10 s: the first, cold read (the store's work) took "
             f"{fmt(page.get('cold_ms'), 1)} ms.")
    parts = [stamp(r), setup, table(["status page", "req/s", "p50 ms", "p99 ms", "bytes",
                                     "target", "ratio"], rows)]
    board = r["dashboard"]
    if "skipped" in board:
        parts.append(f"Dashboard list: not measured ({board['skipped']}).")
    else:
        targets = {"1000": 50, "10000": 300}
        rows = [[f"/app, {int(size):,} monitors", fmt(w["req_per_s"]), fmt(w["p50_ms"], 2),
                 fmt(w["p99_ms"], 2), fmt(w["bytes"], 0),
                 f"p50 < {targets[size]} ms" if size in targets else "–",
                 verdict(w["p50_ms"], targets.get(size), False) if size in targets else "–"]
                for size, w in board["sizes"].items()]
        parts.append(table(["dashboard", "req/s", "p50 ms", "p99 ms", "bytes", "target",
                            "ratio"], rows))
    return "\n\n".join(parts)


def alerts(r):
    """Alerting on against off, the same monitors and rate, in one session."""
    rows = []
    for s in r["sizes"]:
        off, on = s["off"], s["on"]
        rows.append([fmt(s["monitors"], 0), s["interval_s"], fmt(s["target_checks_per_s"], 0),
                     fmt(off.get("checks_per_s")), fmt(on.get("checks_per_s")),
                     fmt(off.get("cpu_s_per_1000_checks"), 3),
                     fmt(on.get("cpu_s_per_1000_checks"), 3),
                     fmt(s["cpu_ratio_on_off"], 3), verdict(s["cpu_ratio_on_off"], 1.05, False),
                     fmt(off.get("lateness_p99_ms"), 2), fmt(on.get("lateness_p99_ms"), 2),
                     fmt(on.get("failed_checks"), 0)])
    return "\n\n".join([stamp(r), table(
        ["monitors", "interval s", "target checks/s", "checks/s off", "checks/s on",
         "CPU s / 1000 checks off", "on", "on ÷ off", "÷ target (≤ 1.05)",
         "lateness p99 ms off", "on", "failed checks on"], rows)])


def names(r):
    """Checks of names served by a loopback DNS server beside literal addresses."""
    if "skipped" in r:
        return f"*Skipped: {r['skipped']}.*"
    rows = []
    for s in r["sizes"]:
        lit, nam = s["literal"], s["names"]
        rows.append([fmt(lit["monitors"], 0), lit["interval_s"], fmt(lit["checks_per_s"]),
                     fmt(nam["checks_per_s"]), fmt(lit["cpu_ms_per_check"], 3),
                     fmt(nam["cpu_ms_per_check"], 3), fmt(s["cpu_ratio_names_to_literal"], 2),
                     fmt(lit["lateness_p99_ms"], 2), fmt(nam["lateness_p99_ms"], 2),
                     fmt(nam["failed_checks"], 0), fmt(nam["skipped"], 0)])
    return table(["monitors", "interval s", "checks/s literal", "checks/s names",
                  "CPU ms/check literal", "CPU ms/check names", "names ÷ literal",
                  "p99 lateness ms literal", "p99 names", "failed (names)", "skipped (names)"],
                 rows)


def million(r):
    """A million monitors, per backend, against the issue's targets."""
    names = list(r["backends"])
    col = lambda f: [f(r["backends"][n]) for n in names]  # noqa: E731

    def claim(b, key):
        c = b.get("claim") or {}
        return c.get(key)

    def get(b, part, key="p50_ms"):
        w = b["api"][part] if part in b.get("api", {}) else b.get(part, {})
        return fmt(w.get(key), 2) if "skipped" not in w else "–"

    rows = [
        ["seeded in (bulk), s", *col(lambda b: fmt(b["seed"]["seconds"])), "–"],
        [f"RSS at {fmt(r['target_checks_per_s'], 0)} checks/s − empty, bytes per monitor",
         *col(lambda b: f"{fmt(b['rss_bytes_per_monitor'])} "
                        f"{verdict(b['rss_bytes_per_monitor'], 1024, False)}"), "≤ 1,024"],
        ["RSS, MiB (empty database)",
         *col(lambda b: f"{fmt(b['rss_mib'])} ({fmt(b['empty_rss_mib'])})"), "–"],
        ["checks/s", *col(lambda b: fmt(b["window"]["checks_per_s"])),
         fmt(r["target_checks_per_s"])],
        ["lateness p50 / p99 ms",
         *col(lambda b: f"{fmt(b['window']['lateness_p50_ms'], 2)} / "
                        f"{fmt(b['window']['lateness_p99_ms'], 2)} "
                        f"{verdict(b['window']['lateness_p99_ms'], 200, False)}"), "p99 < 200"],
        ["skipped / failed checks",
         *col(lambda b: f"{fmt(b['window']['skipped'], 0)} / "
                        f"{fmt(b['window']['failed_checks'], 0)}"), "0 / 0"],
        ["CPU ms per check", *col(lambda b: fmt(b["window"]["cpu_ms_per_check"], 3)), "–"],
        ["claim: rows per call", *col(lambda b: fmt(claim(b, "rows_per_call"))), "–"],
        ["claim: mean / p99 (SQLite) or max (PostgreSQL) ms",
         *col(lambda b: f"{fmt(claim(b, 'mean_ms'), 2)} / "
                        f"{fmt(claim(b, 'p99_ms') or claim(b, 'max_ms'), 2)}"), "flat"],
        ["database, bytes per monitor", *col(lambda b: fmt(b["database_bytes_per_monitor"], 0)),
         "–"],
        ["cold start (exec → /healthz 200), ms",
         *col(lambda b: fmt(b["cold_start_median_ms"])), "–"],
        ["`GET /api/v1/monitors?limit=100` p50 ms", *col(lambda b: get(b, "first_page")), "–"],
        ["… `&after=` the account's last page, p50 ms", *col(lambda b: get(b, "deep_page")),
         "–"],
        ["… the account's whole list, p50 ms", *col(lambda b: get(b, "all")), "–"],
        ["dashboard `/app` p50 ms", *col(lambda b: get(b, "dashboard")), "–"],
    ]
    first = r["backends"][names[0]] if names else {}
    setup = (f"{fmt(r['monitors'], 0)} monitors every {r['interval_s']} s "
             f"({fmt(r['target_checks_per_s'], 0)} checks/s) of the local nginx, "
             f"{fmt(r['per_user'], 0)} per account; a window of {r['duration_s']} s after "
             f"{r['warmup_s']} s of warm-up. The API and dashboard lists are one account's "
             f"({fmt(first.get('api', {}).get('owned'), 0)} monitors), timed with the "
             "million's checks running.")
    notes = [f"{n}: claim from {r['backends'][n]['claim']['source']}"
             + (f"; plan `{r['backends'][n]['claim']['plan']}`"
                if r["backends"][n]["claim"].get("plan") else "")
             for n in names if r["backends"][n].get("claim")]
    return "\n\n".join([stamp(r), setup, table(["", *names, "target"], rows),
                        "\n".join(f"- {n}" for n in notes)])


SECTIONS = {"engine": engine, "alerts": alerts, "api": api, "ingest": ingest, "history": history,
            "scaleout": scaleout, "web": web, "names": names, "million": million}


def write(results):
    """Renders the template with whatever scenarios the results hold."""
    text = TEMPLATE.read_text()
    m = results.get("machine", {})
    banner = ""
    if any(s.get("machine", {}).get("quick") for s in results.values() if isinstance(s, dict)):
        banner = ("> **Smoke run, not the real figures.** Some sections below come from "
                  "`BENCH_QUICK=1` on a busy shared machine (other builds running): they show "
                  "that the suite works, not what tocsin can do. Run `bench/run` on a quiet "
                  "machine for the real figures.\n")
    text = text.replace("{{banner}}", banner)
    text = text.replace("{{machine}}", table(["", ""], [
        ["cores (nproc)", m.get("nproc")], ["CPU", m.get("cpu")],
        ["memory", f"{m.get('memory_gib')} GiB"], ["kernel", m.get("kernel")],
        ["rustc", m.get("rustc")], ["commit", f"`{m.get('commit')}`"], ["date", m.get("date")],
        ["load average at start", " ".join(m.get("loadavg", []))]]))
    for name, render in SECTIONS.items():
        body = render(results[name]) if name in results else "*Not run yet.*"
        text = text.replace("{{" + name + "}}", body)
    OUTPUT.write_text(text)
    return OUTPUT
