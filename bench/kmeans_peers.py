#!/usr/bin/python3
"""Side-by-side k-means benchmark: segscore (bench_kmeans) against scikit-learn KMeans
(lloyd, elkan) and faiss.Kmeans on the same matrices and the same initial centers.

    /usr/bin/python3 bench/kmeans_peers.py                       # full grid (long!)
    /usr/bin/python3 bench/kmeans_peers.py --n 1000000 --d 4 --k 8   # one small case

For each (n, d, k) it generates X (float64, Gaussian blobs around k lattice points, rows in
random order, seeded) and two sets of initial centers, writes them as raw float64 files, and
measures with T threads (default 2), every figure the best of --repeat fits (default 2):

  time per iteration   from k rows of one blob, which keeps every implementation iterating
                       (from random rows some cases stop after 3 iterations);
                       segscore: mean of the per-iteration times reported by the
                       iteration callback over iterations 2..I of --iters = I (tol 0);
                       scikit-learn / faiss: (t(1 + I) - t(1)) / I, the difference of
                       two fits from the same centers with max_iter 1 + I and 1, which
                       removes their fixed costs (validation, copies, final E-step);
                       the iterations each timing covers are printed beside it;
  time to convergence  from k random rows; segscore and scikit-learn: tol 1e-4 (scaled by
                       the mean feature variance, the same rule), max_iter 300, total fit time from the
                       same centers, with the final inertia; faiss (which has no
                       tolerance, and computes in float32): the number of iterations its
                       objective needs to come within 1e-6 of segscore's converged inertia,
                       times its time per iteration ("n/r" if not reached in --faiss-iters).

Ratios printed are peer time / segscore time (> 1 means segscore is faster). Results are
also written as JSON (--json) and, with --markdown, as the table of docs/kmeans.md. The machine
should be quiet: every number is a wall time.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="1000000,10000000", help="comma list of row counts")
    ap.add_argument("--d", default="4,8,16", help="comma list of column counts")
    ap.add_argument("--k", default="8,32", help="comma list of cluster counts")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20, help="iterations for time per iteration")
    ap.add_argument("--faiss-iters", type=int, default=100,
                    help="faiss iterations allowed to reach segscore's converged inertia")
    ap.add_argument("--repeat", type=int, default=2,
                    help="fits per time-per-iteration figure, all implementations (best kept)")
    ap.add_argument("--bench", default=None, help="path to bench_kmeans (default: build/)")
    ap.add_argument("--workdir", default=None, help="where to put the raw matrices")
    ap.add_argument("--json", default=None, help="write all measurements here")
    ap.add_argument("--markdown", action="store_true",
                    help="end with the results as the Markdown table of docs/kmeans.md")
    ap.add_argument("--skip", default="", help="comma list of peers to skip: sklearn,faiss")
    return ap.parse_args()


def ints(s):
    return [int(v) for v in s.split(",") if v]


def make_data(n, d, k, seed=42):
    """X, the convergence init (k random rows) and the iteration init (k rows of one blob).

    From k random rows some cases reach a fixed point in 3 iterations, too few to time an
    iteration. From k rows taken out of one blob the centers must spread over the whole
    lattice, which keeps every implementation iterating for well over --iters iterations."""
    rng = np.random.default_rng(seed)
    lattice = rng.integers(0, 7, size=(k, d)).astype(np.float64) * 4.0
    groups = rng.integers(0, k, size=n)
    x = lattice[groups]
    x += rng.standard_normal((n, d))
    init = x[rng.choice(n, size=k, replace=False)].copy()
    head = x[: min(n, 200000)]
    near = np.argsort(((head - x[0]) ** 2).sum(axis=1))
    step = max(1, min(50, len(near) // k))
    init_iter = head[near[: k * step : step]].copy()
    return np.ascontiguousarray(x), np.ascontiguousarray(init), np.ascontiguousarray(init_iter)


def run_segscore(bench, xpath, cpath, ipath, d, k, threads, iters, repeat):
    res = {}
    for mode, init in (("iter", ipath), ("conv", cpath)):
        cmd = [bench, "--raw", xpath, "--init-raw", init, "--d", str(d), "--k", str(k),
               "--threads", str(threads), "--iters", str(iters), "--mode", mode,
               "--algorithms", "lloyd,hamerly,elkan", "--repeat", str(repeat)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            res[(r["algorithm"], r["mode"])] = r
    return res


def best_time(fn, repeat):
    best, val = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        val = fn()
        best = min(best, time.perf_counter() - t0)
    return best, val


def run_sklearn(x, init, init_iter, k, iters, repeat):
    from sklearn.cluster import KMeans
    out = {}
    for alg in ("lloyd", "elkan"):
        def fit(start, max_iter, tol):
            return KMeans(n_clusters=k, init=start, n_init=1, max_iter=max_iter, tol=tol,
                          algorithm=alg).fit(x)
        t1, _ = best_time(lambda: fit(init_iter, 1, 0.0), repeat)
        tn, km = best_time(lambda: fit(init_iter, 1 + iters, 0.0), repeat)
        done = km.n_iter_ - 1
        per_iter = (tn - t1) / done if done > 0 else float("nan")
        tc, kc = best_time(lambda: fit(init, 300, 1e-4), repeat)
        out[alg] = {"per_iter_s": per_iter, "iters_timed": done, "conv_s": tc,
                    "conv_iters": int(kc.n_iter_), "conv_inertia": float(kc.inertia_)}
    return out


def run_faiss(x, init, init_iter, k, iters, faiss_iters, threads, target, repeat):
    import faiss
    faiss.omp_set_num_threads(threads)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    c32 = np.ascontiguousarray(init, dtype=np.float32)
    i32 = np.ascontiguousarray(init_iter, dtype=np.float32)
    n, d = x.shape

    def fit(start, niter):
        km = faiss.Kmeans(d, k, niter=niter, verbose=False, seed=1, spherical=False,
                          max_points_per_centroid=n // k + 1, min_points_per_centroid=1)
        km.train(x32, init_centroids=start)
        return km

    t1, _ = best_time(lambda: fit(i32, 1), repeat)
    tn, _ = best_time(lambda: fit(i32, 1 + iters), repeat)
    per_iter = (tn - t1) / iters
    # Time to reach segscore's converged inertia: objective per iteration (float32).
    km = fit(c32, faiss_iters)
    t1 = best_time(lambda: fit(c32, 1), repeat)[0]
    obj = np.asarray(km.obj, dtype=np.float64)
    reached = np.nonzero(obj <= target * (1 + 1e-6))[0]
    it = int(reached[0]) + 1 if reached.size else None
    return {"per_iter_s": per_iter, "iters_to_target": it,
            "conv_s": (t1 + (it - 1) * per_iter) if it else None,
            "best_obj": float(obj.min()) if obj.size else None}


def fmt_ms(s):
    return "n/a" if s is None or s != s else f"{s * 1e3:9.2f}"


def ratio(peer, ours):
    if peer is None or ours is None or peer != peer or ours <= 0:
        return "   n/a"
    return f"{peer / ours:6.2f}x"


def main():
    args = parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    here = os.path.dirname(os.path.abspath(__file__))
    bench = args.bench or os.path.join(here, "..", "build", "bench_kmeans")
    if not os.access(bench, os.X_OK):
        sys.exit(f"kmeans_peers: {bench} not found; build with -DSGS_BENCH=ON")
    skip = set(args.skip.split(","))
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(args.threads)
    except ImportError:
        limits = None
    workdir = args.workdir or tempfile.mkdtemp(prefix="kmeans-peers-")
    results = []
    for n in ints(args.n):
        for d in ints(args.d):
            for k in ints(args.k):
                x, init, init_iter = make_data(n, d, k)
                xpath = os.path.join(workdir, f"x_{n}_{d}.f64")
                cpath = os.path.join(workdir, f"c_{n}_{d}_{k}.f64")
                ipath = os.path.join(workdir, f"i_{n}_{d}_{k}.f64")
                x.tofile(xpath)
                init.tofile(cpath)
                init_iter.tofile(ipath)
                seg = run_segscore(bench, xpath, cpath, ipath, d, k, args.threads, args.iters,
                                   args.repeat)
                target = seg[("lloyd", "conv")]["inertia"]
                sk = None if "sklearn" in skip else run_sklearn(x, init, init_iter, k,
                                                                 args.iters, args.repeat)
                fa = None if "faiss" in skip else run_faiss(x, init, init_iter, k, args.iters,
                                                            args.faiss_iters, args.threads,
                                                            target, args.repeat)
                for path in (xpath, cpath, ipath):
                    os.unlink(path)
                rec = {"n": n, "d": d, "k": k, "threads": args.threads,
                       "segscore": {f"{a}/{m}": v for (a, m), v in seg.items()},
                       "sklearn": sk, "faiss": fa}
                results.append(rec)
                report(rec, seg, sk, fa)
                sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        print_markdown(results)
    if limits is not None:
        limits.restore_original_limits()


def print_markdown(results):
    """One row per case: milliseconds per iteration (peer / segscore in parentheses), then
    time to convergence."""
    print("\n| n | d | k | segscore Lloyd | scikit-learn Lloyd | faiss | segscore Elkan "
          "| scikit-learn Elkan | to convergence, segscore / scikit-learn Lloyd |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        seg, sk, fa = r["segscore"], r["sklearn"], r["faiss"]
        ours, elkan = seg["lloyd/iter"]["mean_iter_s"], seg["elkan/iter"]["mean_iter_s"]
        conv = seg["lloyd/conv"]

        def cell(peer, base):
            return "n/a" if peer is None else f"{peer * 1e3:.2f} ({peer / base:.2f}x)"
        sk_l = cell(sk["lloyd"]["per_iter_s"], ours) if sk else "n/a"
        sk_e = cell(sk["elkan"]["per_iter_s"], elkan) if sk else "n/a"
        fa_l = cell(fa["per_iter_s"], ours) if fa else "n/a"
        tc = (f"{conv['total_s']:.3f} s / {sk['lloyd']['conv_s']:.3f} s "
              f"({sk['lloyd']['conv_s'] / conv['total_s']:.2f}x, {conv['iters']} iterations)"
              if sk else f"{conv['total_s']:.3f} s")
        print(f"| {r['n']:,} | {r['d']} | {r['k']} | {ours * 1e3:.2f} | {sk_l} | {fa_l} | "
              f"{elkan * 1e3:.2f} | {sk_e} | {tc} |")


def report(rec, seg, sk, fa):
    n, d, k, t = rec["n"], rec["d"], rec["k"], rec["threads"]
    print(f"\n== n = {n:,}, d = {d}, k = {k}, {t} threads ==")
    print("time per iteration (ms), from one-blob centers   segscore    peer  peer/segscore"
          "  iterations timed")
    ours = seg[("lloyd", "iter")]["mean_iter_s"]
    print(f"  lloyd      segscore                         {fmt_ms(ours)}"
          f"                   {seg[('lloyd', 'iter')]['iters'] - 1}")
    for alg in ("hamerly", "elkan"):
        r = seg[(alg, "iter")]
        print(f"  {alg:<10} segscore                         {fmt_ms(r['mean_iter_s'])}"
              f"                   {r['iters'] - 1}   ({r['distances_per_row_iter']:.2f}"
              " distances/row)")
    if sk:
        for alg in ("lloyd", "elkan"):
            o = seg[(alg, "iter")]["mean_iter_s"]
            p = sk[alg]["per_iter_s"]
            print(f"  {alg:<10} scikit-learn                     {fmt_ms(o)} {fmt_ms(p)}"
                  f"   {ratio(p, o)}   {sk[alg]['iters_timed']}")
    if fa:
        print(f"  lloyd      faiss (float32)                  {fmt_ms(ours)} "
              f"{fmt_ms(fa['per_iter_s'])}   {ratio(fa['per_iter_s'], ours)}")
    print("time to convergence (tol 1e-4)   seconds  iterations  inertia")
    best_ours = None
    for alg in ("lloyd", "hamerly", "elkan"):
        r = seg[(alg, "conv")]
        best_ours = r["total_s"] if best_ours is None else min(best_ours, r["total_s"])
        print(f"  segscore {alg:<8}          {r['total_s']:8.3f}  {r['iters']:10d}  {r['inertia']:.10g}")
    lloyd_s = seg[("lloyd", "conv")]["total_s"]
    if sk:
        for alg in ("lloyd", "elkan"):
            r = sk[alg]
            print(f"  scikit-learn {alg:<8}      {r['conv_s']:8.3f}  {r['conv_iters']:10d}  "
                  f"{r['conv_inertia']:.10g}   {ratio(r['conv_s'], lloyd_s)} vs segscore lloyd, "
                  f"{ratio(r['conv_s'], best_ours)} vs best segscore")
    if fa:
        if fa["iters_to_target"]:
            print(f"  faiss (to segscore inertia)   {fa['conv_s']:8.3f}  {fa['iters_to_target']:10d}"
                  f"               {ratio(fa['conv_s'], lloyd_s)} vs segscore lloyd")
        else:
            print(f"  faiss: segscore inertia not reached (best objective {fa['best_obj']:.10g})")


if __name__ == "__main__":
    main()
