#!/usr/bin/python3
"""bench/step_regression.py — which steps of a run got slower than a stored baseline.

Compares the per-step seconds and peak memory of a run's summary.json with a baseline (a
summary.json, or a baseline saved from one with --save) and prints one row per step: the
baseline, the run, their ratio, the CPU seconds of both (where the summaries have them) and a
verdict. A step is "slower" when it took more than
(1 + --slower) times the baseline's seconds AND at least --min-seconds more (timings of
short steps jitter); memory is "larger" past (1 + --memory) times the baseline's peak.
Exit status: 0 when nothing got slower or larger, 1 when something did, 2 for a usage or
file error. The comparison means something only for the same input, configuration, thread
count and machine: differences there are printed as warnings first.

usage: bench/step_regression.py BASELINE RUN_SUMMARY [--slower 0.15] [--min-seconds 0.2]
                                [--memory 0.10]
       bench/step_regression.py --save BASELINE RUN_SUMMARY   (store a baseline)
Standard library only.
"""
import argparse
import json
import sys
from machine import facts as machine


def fail(message):
    print(f"step_regression: {message}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        fail(f"{path}: no \"steps\" array: not a segscore run summary")
    for i, step in enumerate(doc["steps"]):
        if not (isinstance(step, dict) and isinstance(step.get("name"), str)
                and isinstance(step.get("seconds"), (int, float))):
            fail(f"{path}: steps[{i}] has no name and seconds: not a segscore run summary")
    return doc


def flat(d, prefix=""):
    """{"a": {"b": 1}} as {"a.b": 1}."""
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def identity(doc):
    """What must match for the timings to be comparable."""
    inp = doc.get("input") or {}
    return {"input": inp.get("identity"), "threads": doc.get("threads"),
            "config": doc.get("config"), "machine": doc.get("machine")}


def save(baseline_path, run_path):
    doc = load(run_path)
    keep = {k: doc[k] for k in ("engine_version", "as_of", "threads", "input", "config",
                                "steps", "seconds_total", "peak_rss_mb") if k in doc}
    keep["machine"] = machine()
    with open(baseline_path, "w", encoding="utf-8") as f:
        json.dump(keep, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"saved {len(keep['steps'])} steps of {run_path} as {baseline_path}")


def cpu_pair(a, b):
    """"baseline -> run" CPU seconds of a step (user + system, summary.json's cpu_seconds since
    2026-12-07; '-' for a summary without them): beside the wall time, for runs on a machine
    that was busy with something else, whose wall times stretch while their CPU times do not."""
    def one(step):
        v = (step or {}).get("cpu_seconds")
        return f"{v:.1f}" if isinstance(v, (int, float)) else "-"
    return f"{one(a)} -> {one(b)}"


def cpu_total(doc):
    values = [s.get("cpu_seconds") for s in doc["steps"]]
    return sum(values) if values and all(isinstance(v, (int, float)) for v in values) else None


def compare(base, run, slower, min_seconds, memory):
    a, b = identity(base), identity(run)
    if b["machine"] is None and a["machine"] is not None:
        b["machine"] = machine()  # a summary.json does not say: the run was made here
    for key in ("input", "threads", "machine"):
        if a[key] is not None and b[key] is not None and a[key] != b[key]:
            print(f"warning: the {key} differs from the baseline's: timings may not compare")
    # keys of one version only (a newer segscore has more) are not a difference
    ca, cb = flat(a["config"]), flat(b["config"])
    changed = sorted(k for k in ca.keys() & cb.keys() if ca[k] != cb[k])
    if changed:
        print(f"warning: the configuration differs from the baseline's ({', '.join(changed)}): "
              "timings may not compare")
    base_steps = {s["name"]: s for s in base["steps"]}
    names = [s["name"] for s in base["steps"]]
    names += [s["name"] for s in run["steps"] if s["name"] not in base_steps]
    run_steps = {s["name"]: s for s in run["steps"]}
    print(f"{'step':<16}{'baseline s':>12}{'run s':>10}{'ratio':>8}{'CPU s':>15}  verdict")
    bad = 0
    rows = [(n, base_steps.get(n, {}).get("seconds"), run_steps.get(n, {}).get("seconds"),
             cpu_pair(base_steps.get(n), run_steps.get(n))) for n in names]
    rows.append(("total", base.get("seconds_total"), run.get("seconds_total"),
                 cpu_pair({"cpu_seconds": cpu_total(base)}, {"cpu_seconds": cpu_total(run)})))
    for name, s0, s1, cpu in rows:
        if s0 is None or s1 is None:
            print(f"{name:<16}{'-' if s0 is None else f'{s0:.3f}':>12}"
                  f"{'-' if s1 is None else f'{s1:.3f}':>10}{'':>8}{cpu:>15}  "
                  f"{'new step' if s0 is None else 'not in this run'}")
            continue
        ratio = s1 / s0 if s0 > 0 else float("inf")
        verdict = "ok"
        if s1 > s0 * (1 + slower) and s1 - s0 >= min_seconds:
            verdict = "SLOWER"
            bad += 1
        elif s1 < s0 / (1 + slower) and s0 - s1 >= min_seconds:
            verdict = "faster"
        print(f"{name:<16}{s0:>12.3f}{s1:>10.3f}{ratio:>8.2f}{cpu:>15}  {verdict}")
    m0, m1 = base.get("peak_rss_mb"), run.get("peak_rss_mb")
    if m0 and m1:
        verdict = "LARGER" if m1 > m0 * (1 + memory) else "ok"
        bad += verdict == "LARGER"
        print(f"{'peak memory MB':<16}{m0:>12.0f}{m1:>10.0f}{m1 / m0:>8.2f}  {verdict}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("baseline")
    ap.add_argument("run")
    ap.add_argument("--save", action="store_true", help="store RUN as the baseline BASELINE")
    ap.add_argument("--slower", type=float, default=0.15)
    ap.add_argument("--min-seconds", type=float, default=0.2)
    ap.add_argument("--memory", type=float, default=0.10)
    args = ap.parse_args()
    if args.save:
        save(args.baseline, args.run)
        return 0
    return compare(load(args.baseline), load(args.run), args.slower, args.min_seconds,
                   args.memory)


if __name__ == "__main__":
    sys.exit(main())
