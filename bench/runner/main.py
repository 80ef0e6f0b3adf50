"""bench/run's runner: runs the scenarios named on the command line (all by default), keeps
each one's results with the machine, commit and date in bench/results/latest.json, and
renders BENCHMARKS.md from everything measured so far."""

import json
import sys
import time

from common import BENCH, log, machine

SCENARIOS = ("engine", "alerts", "api", "ingest", "history", "scaleout", "web", "names",
             "million")
RESULTS = BENCH / "results" / "latest.json"


def main(argv):
    """Runs the scenarios in `argv` (or all) and rewrites the report."""
    wanted = argv or list(SCENARIOS)
    unknown = [name for name in wanted if name not in SCENARIOS]
    if unknown:
        sys.exit(f"unknown scenario(s): {' '.join(unknown)}; choose from {' '.join(SCENARIOS)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = machine()
    failed = []
    for name in wanted:
        module = __import__(name)
        log(f"=== {name} ===")
        started = time.monotonic()
        try:
            section = module.run()
        except Exception as error:  # one broken scenario must not lose the others' figures
            log(f"{name} failed: {error!r}")
            failed.append(name)
            continue
        section["machine"] = results["machine"]
        section["wall_seconds"] = time.monotonic() - started
        results[name] = section
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    import report
    log(f"wrote {report.write(results)}")
    if failed:
        sys.exit(f"failed: {' '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
