"""The figures embedded in BENCHMARKS.md, drawn with matplotlib into bench/plots/ as PNG.
Each function saves its figure and returns the Markdown that embeds it."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common import BENCH  # noqa: E402

PLOTS = BENCH / "plots"


def save(fig, name, alt):
    """Writes the figure and returns its Markdown embed (relative to the repo root)."""
    PLOTS.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(PLOTS / f"{name}.png", dpi=110)
    plt.close(fig)
    return f"![{alt}](bench/plots/{name}.png)"


def bars(ax, labels, values, color, target=None, target_label=None):
    """A bar chart with value labels and an optional dashed target line."""
    values = [v or 0 for v in values]
    ax.bar(labels, values, color=color)
    for i, v in enumerate(values):
        text = f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
        ax.annotate(text, (i, v), ha="center", va="bottom", fontsize=8)
    if target is not None:
        ax.axhline(target, linestyle="--", color="black", linewidth=1, label=target_label)
        ax.legend(fontsize=8)


def engine(r):
    """Lateness per N, CPU per check beside wrk's, and the ramp."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    sizes = r["sizes"]
    labels = [f"{s['monitors']:,}\n@{s['interval_s']}s" for s in sizes]
    ax = axes[0]
    width = 0.27
    for k, (key, name) in enumerate([("lateness_p50_ms", "p50"), ("lateness_p99_ms", "p99"),
                                     ("lateness_max_ms", "max (bucket)")]):
        ax.bar([i + (k - 1) * width for i in range(len(sizes))],
               [s[key] or 0 for s in sizes], width, label=name)
    ax.set_xticks(range(len(sizes)), labels)
    ax.set_yscale("symlog", linthresh=1)
    ax.axhline(200, linestyle="--", color="black", linewidth=1, label="200 ms")
    ax.set_ylabel("schedule lateness, ms")
    ax.set_title("Lateness by monitor count")
    ax.legend(fontsize=8)

    ax = axes[1]
    cpu = [(s["cpu_ms_per_check"] or 0) * 1000 for s in sizes]
    wrk_cpu = r["ceiling"]["cpu_us_per_request"]
    bars(ax, labels + ["wrk\nclose"], cpu + [wrk_cpu], ["tab:blue"] * len(sizes) + ["tab:gray"],
         2 * wrk_cpu, "target: 2 × wrk")
    ax.set_ylabel("CPU µs per check / request")
    ax.set_title("CPU per check vs wrk per request")

    ax = axes[2]
    ramp = r["ramp"]
    if ramp:
        target = [s["target_checks_per_s"] for s in ramp]
        ax.plot(target, [s["checks_per_s"] for s in ramp], "o-", label="checks/s achieved")
        ax.plot(target, target, ":", color="gray", label="target")
        ax.set_xlabel("target checks/s")
        ax.set_ylabel("checks/s")
        twin = ax.twinx()
        twin.plot(target, [s["lateness_p99_ms"] or 0 for s in ramp], "s-", color="tab:red",
                  label="lateness p99")
        twin.axhline(200, linestyle="--", color="tab:red", linewidth=1)
        twin.set_ylabel("lateness p99, ms", color="tab:red")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Ramp")
    return save(fig, "engine", "check engine: lateness, CPU per check, ramp")


def api(r):
    """Requests per second and latency per endpoint."""
    names = ["POST /register", "POST /login"] + list(r["endpoints"])
    runs = [r["register"], r["login"]] + list(r["endpoints"].values())
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    short = [n.replace("GET ", "").replace("POST ", "").replace("/api/v1", "") for n in names]
    bars(axes[0], short, [w["req_per_s"] for w in runs], "tab:blue", 20000,
         "target for endpoints without a hash")
    axes[0].axhline(r["hash"]["ceiling_per_s"], linestyle=":", color="tab:red",
                    label="argon2id ceiling")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("req/s")
    axes[0].legend(fontsize=8)
    axes[0].tick_params(axis="x", labelsize=8)
    ax = axes[1]
    width = 0.27
    for k, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        ax.bar([i + (k - 1) * width for i in range(len(runs))], [w[key] for w in runs], width,
               label=key.split("_")[0])
    ax.set_xticks(range(len(runs)), short, fontsize=8)
    ax.set_ylabel("latency, ms")
    ax.legend(fontsize=8)
    fig.suptitle("API")
    return save(fig, "api", "API throughput and latency")


def ingest(r):
    """Results per second per path."""
    labels, values = ["tocsin→SQLite"], [r["sqlite"]["results_per_s"]]
    pg = r["postgres"]
    if "tocsin" in pg:
        labels.append("tocsin→PostgreSQL")
        values.append(pg["tocsin"]["results_per_s"])
    if "copy" in pg:
        labels.append("psql \\copy")
        values.append(pg["copy"]["results_per_s"])
    fig, ax = plt.subplots(figsize=(6, 4))
    bars(ax, labels, values, "tab:green", 20000, "SQLite target")
    ax.axhline(50000, linestyle=":", color="tab:purple", label="PostgreSQL target")
    ax.legend(fontsize=8)
    ax.set_ylabel("results/s")
    ax.set_title("Ingest")
    return save(fig, "ingest", "ingest results per second")


def history(r):
    """Stats latency per window."""
    windows = list(r["windows"])
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.27
    for k, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        ax.bar([i + (k - 1) * width for i in range(len(windows))],
               [r["windows"][w][key] for w in windows], width, label=key.split("_")[0])
    ax.set_xticks(range(len(windows)), [f"window={w}" for w in windows])
    ax.axhline(20, linestyle="--", color="black", linewidth=1, label="365d target")
    ax.set_ylabel("latency, ms")
    ax.set_title(f"stats with {r['monitors']:,} monitors of history")
    ax.legend(fontsize=8)
    return save(fig, "history", "stats latency by window")


def scaleout(r):
    """Checks/s, statements/s and CPU per 1000 checks against the number of instances."""
    steps = r["steps"]
    ks = [s["instances"] for s in steps]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    ax = axes[0]
    bars(ax, [str(k) for k in ks], [s["checks_per_s"] for s in steps], "tab:blue",
         steps[0]["target_checks_per_s"], "target (monitors ÷ interval)")
    ax.plot(range(len(ks)), [s["instance_min_checks_per_s"] for s in steps], "v",
            color="tab:orange", label="idlest (▼) and busiest (▲) instance")
    ax.plot(range(len(ks)), [s["instance_max_checks_per_s"] for s in steps], "^",
            color="tab:orange")
    ax.legend(fontsize=8)
    ax.set_xlabel("instances")
    ax.set_ylabel("checks/s")
    ax.set_title("Checks per second")

    ax = axes[1]
    ax.plot(ks, [s["statements_per_s"] for s in steps], "o-", label="statements/s")
    ax.plot(ks, [s["commits_per_s"] for s in steps], "s-", label="commits/s")
    ax.set_xticks(ks)
    ax.set_xlabel("instances")
    ax.set_ylabel("per second")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.plot(ks, [s["statements_per_1000_checks"] for s in steps], "d--", color="tab:red",
              label="statements / 1000 checks")
    twin.set_ylim(bottom=0)
    twin.set_ylabel("statements per 1000 checks", color="tab:red")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Database load")

    ax = axes[2]
    tocsin = [s["tocsin_cpu_s_per_1000_checks"] or 0 for s in steps]
    server = [s["postgres_cpu_s_per_1000_checks"] or 0 for s in steps]
    ax.bar([str(k) for k in ks], tocsin, color="tab:blue", label="tocsin (all instances)")
    ax.bar([str(k) for k in ks], server, bottom=tocsin, color="tab:purple", label="PostgreSQL")
    ax.set_xlabel("instances")
    ax.set_ylabel("CPU s per 1000 checks")
    ax.legend(fontsize=8)
    ax.set_title("CPU per 1000 checks")
    return save(fig, "scaleout", "scale-out: checks/s, statements/s and CPU by instances")
