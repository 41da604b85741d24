#!/usr/bin/python3
"""bench/backtest_cost.py — what the backtest adds to the value step of `segscore run`.

For each size: generate the input once (cached in the work folder; `segscore generate
--no-events`, whose events the value step does not read), then run `segscore run` --repeat
times with the backtest (the default configuration) and --repeat times without it
(`--set value.backtest=false`), alternating which goes first, and read from each
summary.json the value step's wall time (`steps`) and the backtest's own
(`value.backtest.seconds`). Every run has `segments.enabled=false`, which does not touch the
value step and saves a minute a run at 10M customers. Prints per size the median value step
with and without the backtest and their ratio (issue 12: at most 1.25 at 10M customers), and
the median of each run's own ratio, value / (value - backtest), which a loaded machine blurs
less because both times come from the same run.

usage: bench/backtest_cost.py [--customers 1000000 10000000] [--threads 2] [--repeat 3]
                              [--segscore build/segscore] [--work bench-data] [--set KEY=VALUE]
--set is passed to every run (e.g. --set value.backtest_sample=0 to time the whole cohort).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import machine as bench_machine


def run_once(args, path, n, with_backtest, rep):
    out_dir = os.path.join(args.work, "run-%d-%s-%d" % (n, "bt" if with_backtest else "nobt", rep))
    os.makedirs(out_dir, exist_ok=True)
    cmd = [args.segscore, "run", "-q", "-i", path, "-o", os.path.join(out_dir, "results.h5"),
           "--threads", str(args.threads), "--set", "segments.enabled=false"]
    for kv in args.set or []:
        cmd += ["--set", kv]
    if not with_backtest:
        cmd += ["--set", "value.backtest=false"]
    subprocess.run(cmd, check=True)
    with open(os.path.join(out_dir, "summary.json")) as f:
        s = json.load(f)
    value_s = next(step["seconds"] for step in s["steps"] if step["name"] == "value")
    bt = s["value"]["backtest"]
    return {"value_s": value_s, "backtest_s": bt.get("seconds", 0.0) if with_backtest else 0.0,
            "cohort": bt.get("cohort"), "scored": bt.get("customers")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[1000000, 10000000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--segscore", default="build/segscore")
    ap.add_argument("--work", default="bench-data")
    ap.add_argument("--set", action="append", help="KEY=VALUE for every run")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print("machine: %s, %s; %d threads, %d runs each" % (bench_machine.describe(), datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), args.threads, args.repeat))
    rows = []
    for n in args.customers:
        path = os.path.join(args.work, "backtest-%d.h5" % n)
        if not os.path.exists(path):
            subprocess.run([args.segscore, "generate", "-q", "--no-events", "--customers", str(n),
                            "-o", path], check=True)
        with_bt, without = [], []
        for rep in range(args.repeat):
            order = (True, False) if rep % 2 == 0 else (False, True)
            for flag in order:
                r = run_once(args, path, n, flag, rep)
                (with_bt if flag else without).append(r)
                print("  %d customers, backtest %s: value step %.2f s%s" % (
                    n, "on " if flag else "off", r["value_s"],
                    ", backtest %.2f s (%s of %s customers)" % (r["backtest_s"], r["scored"],
                                                                r["cohort"]) if flag else ""),
                    flush=True)
        med_with = statistics.median(r["value_s"] for r in with_bt)
        med_without = statistics.median(r["value_s"] for r in without)
        own = statistics.median(r["value_s"] / (r["value_s"] - r["backtest_s"]) for r in with_bt)
        rows.append((n, with_bt[0]["scored"], with_bt[0]["cohort"], med_with, med_without,
                     med_with / med_without, own,
                     statistics.median(r["backtest_s"] for r in with_bt)))
    print("\n| customers | backtest scored / cohort | value step with | without | ratio "
          "| ratio within a run | backtest |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, scored, cohort, w, wo, ratio, own, bt in rows:
        print("| %s | %s / %s | %.2f s | %.2f s | %.2f | %.2f | %.2f s |" % (
            format(n, ","), format(scored, ","), format(cohort, ","), w, wo, ratio, own, bt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
