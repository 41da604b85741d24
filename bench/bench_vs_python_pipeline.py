#!/usr/bin/python3
"""bench/bench_vs_python_pipeline.py — segscore run against the pipeline a data scientist writes.

One invocation, on the same input file:
  1. `segscore run` with a like-for-like config (BG/NBD, no backtest; see CONFIG below), timed
     per step from its summary.json;
  2. the same outputs in Python, in a separate process (its own wall time per step and peak
     memory): pandas for the customer summary (purchase occasions, refunds netted and
     attributed as docs/spend.md says) and RFM scores; the BG/NBD and Gamma-Gamma
     likelihoods as the `lifetimes` package writes them, minimized with scipy.optimize (BFGS on
     log-parameters, analytic gradients, the BG/NBD fitted on the unique (frequency, recency, T)
     histories with their counts as weights); P(alive), conditional expected purchases and
     the discounted CLV as lifetimes computes them, on the unique histories; scikit-learn
     KMeans on the features segscore clusters, scaled as segscore scales them, with k chosen by
     silhouette on a sample; pandas to_csv of the per-customer table and of a contact list;
  3. checks that both agree (summary and RFM customer by customer; model parameters
     to 1e-4 relative; P(alive), expected purchases and CLV per customer; CLV recomputed in
     Python from segscore's own parameters to 1e-9; segment quality by inertia on the same
     scaled features) and prints each step's times and ratio, and the whole run's.
Exit status 1 when a check fails.

usage: bench/bench_vs_python_pipeline.py [--customers 1000000] [--input FILE.h5]
           [--threads 2] [--repeat 1] [--segscore build/segscore] [--work bench-data/pybench]
Needs Debian's python3-numpy, -scipy, -pandas, -h5py and -sklearn (scripts/install-deps with
SGS_WITH_PEERS=1); exits 77 (skipped) when one cannot be imported.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from machine import describe as machine

# The like-for-like configuration. segscore's default value.model = auto lets a backtest
# choose among three purchase models and calibrates p_buy on a held-out period, which a
# lifetimes pipeline does not do: here the run fits BG/NBD on the whole history and p_buy is
# the model's own P(at least one purchase within the horizon). Everything else is segscore's
# default: time unit day, horizon 365 days, annual discount 0.1, margin 1, no penalizer,
# segments on recency, frequency, monetary, tenure, clv, p_buy with robust scaling, k in 3..8
# chosen by silhouette on 100,000 customers, 3 restarts on all.
CONFIG = {"value": {"model": "bgnbd", "backtest": False}}
HORIZON_DAYS = 365.0
DAYS_PER_MONTH = 30.0  # lifetimes' factor for freq="D", and segscore's for days
DISCOUNT_ANNUAL = 0.1
MARGIN = 1.0
RFM_BINS = 5
K_RANGE = range(3, 9)
CHOICE_SAMPLE = 100000
SILHOUETTE_SAMPLE = 5000
N_INIT = 3
SEED = 42
TAIL = 0.01  # segscore's 1% / 99% quantiles
RANGE98_PER_SD = 4.6526957480816815  # 2 Phi^-1(0.99)
MIN_SPREAD = 0.01

# Tolerances of the agreement checks.
PARAM_RTOL = 1e-4  # fitted parameters, both sides' optimizers stopping near the same optimum
SCORE_RTOL = 1e-3  # per-customer scores, which inherit the parameters' differences
SAME_PARAMS_RTOL = 1e-9  # CLV recomputed in Python from segscore's parameters
INERTIA_SLACK = 0.01  # segscore's segments at most 1% worse than scikit-learn's


# ---- The Python pipeline (run in its own process: --peer) --------------------------------------

def bgnbd_nll(log_params, x, t_x, T, w, penalizer=0.0):
    """lifetimes' BetaGeoFitter._negative_log_likelihood, with its analytic gradient in the
    log-parameters (lifetimes takes the gradient with autograd)."""
    import numpy as np
    from scipy.special import gammaln, digamma
    r, alpha, a, b = np.exp(log_params)
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    A2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    A3 = -(r + x) * np.log(alpha + T)
    A4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(t_x + alpha)
    has = x > 0
    mx = np.maximum(A3, A4)
    e3 = np.exp(A3 - mx)
    e4 = np.exp(A4 - mx) * has
    s = e3 + e4
    ll = A1 + A2 + np.log(s) + mx
    W = w.sum()
    f = -(w * ll).sum() / W + penalizer * (r * r + alpha * alpha + a * a + b * b)
    w3, w4 = e3 / s, e4 / s
    d_ab_x = digamma(a + b) - digamma(a + b + x)
    g_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) \
        - w4 * np.log(alpha + t_x)
    g_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    g_a = d_ab_x + w4 / a
    g_b = d_ab_x + digamma(b + x) - digamma(b) - w4 / (b + np.maximum(x, 1) - 1)
    grad = np.array([-(w * g).sum() / W for g in (g_r, g_alpha, g_a, g_b)])
    grad = grad * np.array([r, alpha, a, b]) + 2 * penalizer * np.array([r, alpha, a, b]) ** 2
    return f, grad


def gg_nll(log_params, x, m, w, penalizer=0.0):
    """lifetimes' GammaGammaFitter._negative_log_likelihood and its gradient in log-params."""
    import numpy as np
    from scipy.special import gammaln, digamma
    p, q, v = np.exp(log_params)
    px = p * x
    lxm = np.log(x * m + v)
    ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m) \
        + px * np.log(x) - (px + q) * lxm
    W = w.sum()
    f = -(w * ll).sum() / W + penalizer * (p * p + q * q + v * v)
    psi = digamma(px + q)
    g_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - lxm)
    g_q = psi - digamma(q) + np.log(v) - lxm
    g_v = q / v - (px + q) / (x * m + v)
    grad = np.array([-(w * g).sum() / W for g in (g_p, g_q, g_v)])
    grad = grad * np.array([p, q, v]) + 2 * penalizer * np.array([p, q, v]) ** 2
    return f, grad


def fit_bgnbd(x, t_x, T, w):
    """BetaGeoFitter.fit: time scaled by 10 / max(T), log-params from 0, BFGS (scipy's choice
    for an unconstrained problem with a gradient, as lifetimes calls it), tol 1e-7."""
    import numpy as np
    from scipy.optimize import minimize
    scale = 10.0 / T.max()
    res = minimize(bgnbd_nll, np.zeros(4), args=(x, t_x * scale, T * scale, w), jac=True,
                   method="BFGS", tol=1e-7)
    r, alpha, a, b = np.exp(res.x)
    return {"r": r, "alpha": alpha / scale, "a": a, "b": b, "iterations": int(res.nit),
            "converged": bool(res.success), "message": str(res.message),
            "log_likelihood": float(-res.fun * w.sum())}


def fit_gg(x, m, w):
    """GammaGammaFitter.fit: log-params from 0, BFGS, tol 1e-7."""
    import numpy as np
    from scipy.optimize import minimize
    res = minimize(gg_nll, np.zeros(3), args=(x, m, w), jac=True, method="BFGS", tol=1e-7)
    p, q, v = np.exp(res.x)
    return {"p": p, "q": q, "gamma": v, "iterations": int(res.nit), "converged": bool(res.success),
            "message": str(res.message), "log_likelihood": float(-res.fun * w.sum())}


def bg_p_alive(prm, x, t_x, T):
    """lifetimes' BetaGeoFitter.conditional_probability_alive."""
    import numpy as np
    from scipy.special import expit
    r, alpha, a, b = prm["r"], prm["alpha"], prm["a"], prm["b"]
    log_div = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x == 0, 1.0, expit(-log_div))


def bg_expected(prm, t, x, t_x, T):
    """lifetimes' BetaGeoFitter.conditional_expected_number_of_purchases_up_to_time (FHL eq.
    10), with its fallback to Euler's transformation where hyp2f1 overflows."""
    import numpy as np
    from scipy.special import hyp2f1
    r, alpha, a, b = prm["r"], prm["alpha"], prm["a"], prm["b"]
    _a, _b, _c = r + x, b + x, a + b + x - 1
    _z = t / (alpha + T + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_hyp = np.log(hyp2f1(_a, _b, _c, _z))
        alt = np.log(hyp2f1(_c - _a, _c - _b, _c, _z)) + (_c - _a - _b) * np.log(1 - _z)
    ln_hyp = np.where(np.isinf(ln_hyp), alt, ln_hyp)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - np.exp(ln_hyp + (r + x) * np.log((alpha + T) / (alpha + t + T)))
    denominator = 1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return first * second / denominator


def bg_prob_no_purchase(prm, t, x, t_x, T, p_alive):
    """P(no purchase in (T, T+t]) = 1 - P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)): alive
    customers buy by a Poisson process with rate ~ Gamma(r+x, alpha+T) (lifetimes has no such
    method; docs/value-models.md derives it)."""
    import numpy as np
    r, alpha = prm["r"], prm["alpha"]
    return 1.0 - p_alive * (1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))))


def discounted_purchases(prm, x, t_x, T):
    """lifetimes' _customer_lifetime_value loop without the spend: monthly steps of the
    conditional expectation, each discounted at the monthly equivalent of the annual rate. As
    segscore does it for a horizon that is not a whole number of months: tau_k = min(k u, H),
    K = ceil(H / u), discount (1 + d)^(tau_k / (12 u)) (docs/value-models.md, kernels/clv.c);
    with H = 12 u this is lifetimes' loop with discount_rate = (1+d)^(1/12) - 1."""
    import math
    import numpy as np
    u, H = DAYS_PER_MONTH, HORIZON_DAYS
    total, prev = np.zeros(len(x)), np.zeros(len(x))
    for k in range(1, math.ceil(H / u) + 1):
        tau = min(k * u, H)
        e = bg_expected(prm, tau, x, t_x, T)
        total += (e - prev) / (1.0 + DISCOUNT_ANNUAL) ** (tau / (12.0 * u))
        prev = e
    return total, prev  # prev = E[Y(H)]


def gg_expected_spend(prm, x, m):
    """lifetimes' conditional_expected_average_profit; the population mean p gamma / (q - 1)
    for customers left out of the fit (no repeat purchase, or no positive repeat spend)."""
    import numpy as np
    p, q, v = prm["p"], prm["q"], prm["gamma"]
    usable = (x > 0) & (m > 0)
    wgt = np.where(usable, p * x / (p * x + q - 1), 0.0)
    return (1 - wgt) * (v * p / (q - 1)) + wgt * np.where(usable, m, 0.0)


def signed_log1p(v):
    import numpy as np
    return np.sign(v) * np.log1p(np.abs(v))


def robust_scale(cols):
    """segscore's robust scaling (docs/segments.md): spread = central 98% range in working
    units, with m = floor(0.01 n) customers aside at each end; features below MIN_SPREAD
    dropped; each kept column winsorized at those two values, centred on its median and
    divided by the range / 4.6527. Returns the matrix, used names, and per-feature stats."""
    import numpy as np
    n = len(next(iter(cols.values())))
    m = int(np.floor(TAIL * n))
    kept, stats = [], {}
    for name, col in cols.items():
        part = np.partition(col, (m, n - 1 - m))
        lo, hi = part[m], part[n - 1 - m]
        med = float(np.median(col))
        spread = hi - lo
        used = spread >= MIN_SPREAD
        scale = spread / RANGE98_PER_SD if hi > lo else 1.0
        stats[name] = {"used": bool(used), "center": med, "scale": scale, "spread": spread}
        if used:
            kept.append((np.clip(col, lo, hi) - med) / scale)
    return np.column_stack(kept), [k for k in cols if stats[k]["used"]], stats


def choose_k_and_cluster(X):
    """k by mean silhouette (on a seeded sample of SILHOUETTE_SAMPLE rows) of one KMeans start
    per k on an even spread of CHOICE_SAMPLE customers, then KMeans with N_INIT starts on all."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    n = len(X)
    s = min(CHOICE_SAMPLE, n)
    sample = X[(np.arange(s, dtype=np.int64) * n) // s]
    table = []
    for k in K_RANGE:
        km = KMeans(n_clusters=k, n_init=1, random_state=SEED).fit(sample)
        sil = silhouette_score(sample, km.labels_, sample_size=min(SILHOUETTE_SAMPLE, s),
                               random_state=SEED)
        table.append((k, float(sil), float(km.inertia_)))
    k = max(table, key=lambda t: t[1])[0]
    km = KMeans(n_clusters=k, n_init=N_INIT, max_iter=300, random_state=SEED).fit(X)
    return k, km.labels_, float(km.inertia_), table


def peer(path, out_dir):
    """The Python pipeline; prints one JSON line of timings, writes its results to out_dir."""
    import resource
    import numpy as np
    import pandas as pd
    import h5py
    from pandas_summary import summarize
    os.makedirs(out_dir, exist_ok=True)
    t = {}
    t0 = time.perf_counter()
    # -- read
    with h5py.File(path, "r") as f:
        df = pd.DataFrame({"customer_id": f["/transactions/customer_id"][:],
                           "time": f["/transactions/time"][:],
                           "amount": f["/transactions/amount"][:]})
    t1 = time.perf_counter()
    t["read"] = t1 - t0
    # -- summary: purchase occasions and spend as docs/spend.md defines them
    as_of = df["time"].max() // 86400
    per = summarize(df, as_of)
    del df
    t2 = time.perf_counter()
    t["summary"] = t2 - t1
    # -- rfm
    n = len(per)

    def score(values, ascending):
        below = values.rank(method="min", ascending=ascending) - 1
        return (1 + (RFM_BINS * below.astype(np.int64)) // n).astype(np.uint8)
    per["r"] = score(per["since_last"], ascending=False)
    per["f"] = score(per["n_days"], ascending=True)
    per["m"] = score((per["total_spend"] * 1e6).round(), ascending=True)  # ties to 1e-6
    t3 = time.perf_counter()
    t["rfm"] = t3 - t2
    # -- value: BG/NBD on unique histories, Gamma-Gamma on repeat customers, scores, CLV
    x_all = per["frequency"].to_numpy(np.int64)
    tx_all = per["recency"].to_numpy(np.int64)
    T_all = per["T"].to_numpy(np.int64)
    key = (x_all * (tx_all.max() + 1) + tx_all) * (T_all.max() + 1) + T_all
    ukey, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    first_of = np.zeros(len(ukey), dtype=np.int64)
    first_of[inverse] = np.arange(n)
    x, t_x, T = (x_all[first_of].astype(float), tx_all[first_of].astype(float),
                 T_all[first_of].astype(float))
    t_hist = time.perf_counter()
    bg = fit_bgnbd(x, t_x, T, counts.astype(float))
    t_bg = time.perf_counter()
    # Net spend <= 0 is worth nothing. Decided on the total rounded to 1e-6 (as the M score's
    # ties): a customer who returned everything has a net of 0 in exact arithmetic, which a
    # floating-point sum leaves at +-4e-15 or 0 depending on the order of the rows.
    positive = (per["total_spend"] * 1e6).round().to_numpy() > 0
    spend = np.where(positive, per["monetary"].to_numpy(), 0.0)
    fit_rows = (x_all > 0) & (spend > 0)
    gg = fit_gg(x_all[fit_rows].astype(float), spend[fit_rows], np.ones(int(fit_rows.sum())))
    t_gg = time.perf_counter()
    p_alive_u = bg_p_alive(bg, x, t_x, T)
    disc_u, expected_u = discounted_purchases(bg, x, t_x, T)
    p_none_u = bg_prob_no_purchase(bg, HORIZON_DAYS, x, t_x, T, p_alive_u)
    exp_spend = gg_expected_spend(gg, x_all.astype(float), spend)
    clv = MARGIN * exp_spend * disc_u[inverse]
    without = ~positive  # net spend <= 0: worth nothing
    exp_spend[without] = 0.0
    clv[without] = 0.0
    per["p_alive"] = p_alive_u[inverse]
    per["expected_purchases"] = expected_u[inverse]
    per["expected_spend"] = exp_spend
    per["clv"] = clv
    per["p_buy"] = 1.0 - p_none_u[inverse]
    t4 = time.perf_counter()
    t["value"] = t4 - t3
    t["value_parts"] = {"histories": t_hist - t3, "bgnbd_fit": t_bg - t_hist,
                        "gammagamma_fit": t_gg - t_bg, "scores": t4 - t_gg}
    # -- segments
    cols = {"recency": np.log1p(per["since_last"].to_numpy(float)),
            "frequency": np.log1p(per["frequency"].to_numpy(float)),
            "monetary": signed_log1p(per["mean_spend"].to_numpy()),
            "tenure": np.log1p(per["T"].to_numpy(float)),
            "clv": signed_log1p(clv),
            "p_buy": per["p_buy"].to_numpy()}
    X, used, fstats = robust_scale(cols)
    t_scaled = time.perf_counter()
    k, labels, inertia, k_table = choose_k_and_cluster(X)
    per["segment"] = labels
    t5 = time.perf_counter()
    t["segments"] = t5 - t4
    t["segments_parts"] = {"features": t_scaled - t4, "k_and_kmeans": t5 - t_scaled}
    # -- lists: a contact list (at-risk customers by value at stake, 10% control by hash)
    risk = per[per["p_buy"] < 0.5].copy()
    risk["value_at_stake"] = risk["clv"] * (1 - risk["p_buy"])
    risk = risk.sort_values("value_at_stake", ascending=False, kind="stable")
    risk["rank"] = np.arange(1, len(risk) + 1)
    risk["opportunity"] = "save"
    risk["reason"] = ("at risk: p_buy " + risk["p_buy"].map("{:.2f}".format) + "; " +
                      risk["since_last"].astype(str) + " days since last purchase; CLV " +
                      risk["clv"].map("{:.2f}".format))
    h = (risk.index.to_numpy().astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)
    risk["group"] = np.where(h % np.uint64(10) == 0, "control", "treatment")
    t6 = time.perf_counter()
    t["list"] = t6 - t5
    # -- write: the per-customer table and the list, pandas to_csv
    table = pd.DataFrame({
        "first_purchase": pd.to_datetime(per["first"], unit="D").dt.strftime("%Y-%m-%d"),
        "last_purchase": pd.to_datetime(per["last"], unit="D").dt.strftime("%Y-%m-%d"),
        "n_purchase_days": per["n_days"], "frequency": per["frequency"],
        "recency": per["recency"], "T": per["T"], "time_since_last": per["since_last"],
        "total_spend": per["total_spend"].round(2), "mean_spend": per["mean_spend"].round(2),
        "monetary": per["monetary"].round(2), "r_score": per["r"], "f_score": per["f"],
        "m_score": per["m"], "rfm_cell": per["r"].astype(int) * 100 + per["f"] * 10 + per["m"],
        "p_alive": per["p_alive"].round(4), "expected_purchases": per["expected_purchases"].round(4),
        "expected_spend": per["expected_spend"].round(2), "clv": per["clv"].round(2),
        "p_buy": per["p_buy"].round(4), "segment": per["segment"]}, index=per.index)
    table.to_csv(os.path.join(out_dir, "customers.csv"))
    risk[["rank", "opportunity", "reason", "value_at_stake", "segment", "group"]].round(
        {"value_at_stake": 2}).to_csv(os.path.join(out_dir, "opportunities.csv"))
    t7 = time.perf_counter()
    t["write"] = t7 - t6
    t["total"] = sum(t[k] for k in ("read", "summary", "rfm", "value", "segments", "list",
                                    "write"))
    np.savez(os.path.join(out_dir, "python.npz"), customer_id=per.index.values,
             frequency=per["frequency"].values, recency=per["recency"].values, T=per["T"].values,
             monetary=per["monetary"].values, total_spend=per["total_spend"].values,
             r=per["r"].values, f=per["f"].values, m=per["m"].values,
             p_alive=per["p_alive"].values, expected_purchases=per["expected_purchases"].values,
             expected_spend=per["expected_spend"].values, clv=per["clv"].values,
             p_buy=per["p_buy"].values, labels=labels, X=X)
    print(json.dumps({"seconds": t, "customers": int(n), "histories": int(len(ukey)),
                      "bgnbd": bg, "gammagamma": gg, "gg_customers": int(fit_rows.sum()),
                      "k": int(k), "k_table": k_table, "inertia": inertia, "features": used,
                      "feature_stats": fstats, "list_rows": int(len(risk)),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
                     default=float))


# ---- The driver --------------------------------------------------------------------------------

def load():
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def inertia_of(X, labels):
    """Sum of squared distances of each row to the mean of its label's rows."""
    import numpy as np
    total = 0.0
    for j in np.unique(labels):
        rows = X[labels == j]
        total += float(((rows - rows.mean(axis=0)) ** 2).sum())
    return total


def compare(results_path, py_dir, peer_out, checks):
    """Appends (name, ok, detail) to checks."""
    import numpy as np
    import h5py
    py = np.load(os.path.join(py_dir, "python.npz"))
    with h5py.File(results_path, "r") as f:
        ours = {k: f["/customers/" + k][:] for k in
                ("customer_id", "frequency", "recency", "T", "monetary", "total_spend")}
        ours.update({k: f["/rfm/%s_score" % k][:] for k in ("r", "f", "m")})
        ours.update({k: f["/clv/" + k][:] for k in
                     ("p_alive", "expected_purchases", "expected_spend", "clv", "p_buy")})
        ours["labels"] = f["/clusters/label"][:]
        model = f["/clv"].attrs["model"]
        model = model.decode() if isinstance(model, bytes) else str(model)
        bg_attrs = dict(f["/models/" + model].attrs)
        gg_attrs = dict(f["/models/gammagamma"].attrs)
        feats = f["/clusters/features"]
        fnames = [s.decode() if isinstance(s, bytes) else str(s) for s in feats["name"][:]]
        fused = feats["used"][:]
        fcenter, fscale = feats["center"][:], feats["scale"][:]
        k_seg = int(f["/clusters"].attrs["k"])

    bad = [k for k in ("customer_id", "frequency", "recency", "T", "r", "f", "m")
           if not np.array_equal(ours[k], py[k])]
    bad += [k for k in ("monetary", "total_spend")
            if not np.allclose(ours[k], py[k], rtol=1e-9, atol=1e-6)]
    checks.append(("summary and RFM, customer by customer", not bad,
                   "equal" if not bad else "differ in " + ", ".join(bad)))
    if bad:
        return

    prm = {"r": bg_attrs["r"], "alpha": bg_attrs["alpha"], "a": bg_attrs["a"], "b": bg_attrs["b"]}
    gprm = {"p": gg_attrs["p"], "q": gg_attrs["q"], "gamma": gg_attrs["gamma"]}
    worst = []
    for name, mine in list(prm.items()) + list(gprm.items()):
        theirs = peer_out["bgnbd"][name] if name in prm else peer_out["gammagamma"][name]
        worst.append((rel(mine, theirs), name, mine, theirs))
    w = max(worst)
    checks.append((f"model parameters, {PARAM_RTOL:g} relative", w[0] <= PARAM_RTOL and
                   model == "bgnbd",
                   f"model {model}; largest difference {w[0]:.1e} ({w[1]}: segscore {w[2]:.10g}, "
                   f"Python {w[3]:.10g}); " + ", ".join(f"{nm} {m_:.6g}" for _, nm, m_, _ in
                                                        sorted(worst, key=lambda t: t[1]))))

    # Which side found the better optimum: both parameter sets in the Python likelihoods
    # (lifetimes' objective, -LL / N, on the same unique histories and spend rows).
    x = ours["frequency"].astype(float)
    xi, ri, Ti = (ours[k].astype(np.int64) for k in ("frequency", "recency", "T"))
    hkey = (xi * (ri.max() + 1) + ri) * (Ti.max() + 1) + Ti
    _, first, inverse, counts = np.unique(hkey, return_index=True, return_inverse=True,
                                          return_counts=True)
    ux, ut, uT = (v[first].astype(float) for v in (xi, ri, Ti))
    wts = counts.astype(float)
    spend = np.where(ours["total_spend"] > 0, ours["monetary"], 0.0)  # segscore's own rule
    rows_gg = (x > 0) & (spend > 0)
    pb = peer_out["bgnbd"]
    pg = peer_out["gammagamma"]
    ll_bg = [-bgnbd_nll(np.log([q["r"], q["alpha"], q["a"], q["b"]]), ux, ut, uT, wts)[0] *
             wts.sum() for q in (prm, pb)]
    ll_gg = [-gg_nll(np.log([q["p"], q["q"], q["gamma"]]), x[rows_gg], spend[rows_gg],
                     np.ones(int(rows_gg.sum())))[0] * rows_gg.sum() for q in (gprm, pg)]
    gnorm_bg = [float(np.abs(bgnbd_nll(np.log([q["r"], q["alpha"], q["a"], q["b"]]), ux, ut, uT,
                                       wts)[1]).max()) for q in (prm, pb)]
    gnorm_gg = [float(np.abs(gg_nll(np.log([q["p"], q["q"], q["gamma"]]), x[rows_gg],
                                    spend[rows_gg], np.ones(int(rows_gg.sum())))[1]).max())
                for q in (gprm, pg)]
    checks.append(("log-likelihoods at both estimates (information)", True,
                   f"BG/NBD LL segscore {ll_bg[0]:.12g}, Python minus segscore "
                   f"{ll_bg[1] - ll_bg[0]:+.2e}, max |gradient| of -LL/N in log-params "
                   f"{gnorm_bg[0]:.1e} and {gnorm_bg[1]:.1e}; Gamma-Gamma LL segscore "
                   f"{ll_gg[0]:.12g}, Python minus segscore {ll_gg[1] - ll_gg[0]:+.2e}, gradients "
                   f"{gnorm_gg[0]:.1e} and {gnorm_gg[1]:.1e}"))

    for key in ("p_alive", "expected_purchases", "p_buy", "expected_spend", "clv"):
        a, b = ours[key], py[key]
        d = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-9)
        d[(a == b)] = 0.0
        off = d > SCORE_RTOL
        why = ""
        if off.any():  # customers whose net spend is 0 up to rounding, valued by one side only
            zero_net = off & (np.abs(ours["total_spend"]) < 1e-6)
            why = (f"; {int(off.sum())} customers beyond it, {int(zero_net.sum())} of them with a "
                   f"net spend of 0 up to rounding that segscore values at {a[zero_net].sum():.6g} "
                   f"and Python at {b[zero_net].sum():.6g} (customer ids "
                   + ", ".join(str(c) for c in ours["customer_id"][zero_net][:5]) + ")")
        checks.append((f"{key} per customer, {SCORE_RTOL:g} relative", not off.any(),
                       f"largest difference {d.max():.1e}, mean {d.mean():.1e}; totals "
                       f"{a.sum():.6g} and {b.sum():.6g}" + why))

    # The CLV formula alone: Python's lifetimes-style CLV from segscore's own parameters
    # (on the distinct histories, copied to customers).
    disc, expected = (v[inverse] for v in discounted_purchases(prm, ux, ut, uT))
    pa = bg_p_alive(prm, ux, ut, uT)[inverse]
    es = gg_expected_spend(gprm, x, spend)
    clv = MARGIN * es * disc
    clv[~(ours["total_spend"] > 0)] = 0.0
    for key, mine in (("p_alive", pa), ("expected_purchases", expected), ("clv", clv)):
        a = ours[key]
        d = np.abs(a - mine) / np.maximum(np.maximum(np.abs(a), np.abs(mine)), 1e-300)
        d[a == mine] = 0.0
        checks.append((f"{key} from segscore's parameters, {SAME_PARAMS_RTOL:g} relative",
                       bool(d.max() <= SAME_PARAMS_RTOL), f"largest difference {d.max():.1e}"))

    # Segments: the same features and scaling, then quality on the same scaled matrix.
    fs = peer_out["feature_stats"]
    used_seg = [nm for nm, u in zip(fnames, fused) if u]
    # the summary features must scale alike to rounding; clv and p_buy inherit the fits'
    # differences (SCORE_RTOL)
    diffs = {nm: max(rel(c, fs[nm]["center"]), rel(s, fs[nm]["scale"]))
             for nm, u, c, s in zip(fnames, fused, fcenter, fscale) if u and nm in fs}
    plain = max([d for nm, d in diffs.items() if nm not in ("clv", "p_buy", "p_alive")] + [0.0])
    modelled = max([d for nm, d in diffs.items() if nm in ("clv", "p_buy", "p_alive")] + [0.0])
    checks.append(("segment features and scaling (1e-12 relative; clv, p_buy "
                   f"{SCORE_RTOL:g})", used_seg == peer_out["features"] and plain <= 1e-12 and
                   modelled <= SCORE_RTOL,
                   f"segscore {','.join(used_seg)}, Python {','.join(peer_out['features'])}; "
                   f"centre and scale differ by at most {plain:.1e} ({modelled:.1e} for the "
                   "model scores)"))
    X = py["X"]
    ours_inertia = inertia_of(X, ours["labels"])
    if peer_out["k"] == k_seg:
        ref_inertia = peer_out["inertia"]
    else:  # the two chose different k: scikit-learn's KMeans at segscore's k as the yardstick
        from sklearn.cluster import KMeans
        ref_inertia = float(KMeans(n_clusters=k_seg, n_init=N_INIT, random_state=SEED)
                            .fit(X).inertia_)
    from sklearn.metrics import adjusted_rand_score
    rng = np.random.default_rng(SEED)
    n_ari = min(100000, len(X))
    idx = rng.choice(len(X), size=n_ari, replace=False)
    ari = adjusted_rand_score(ours["labels"][idx], py["labels"][idx])
    checks.append((f"segment inertia on the same scaled features, within {INERTIA_SLACK:.0%} "
                   "of scikit-learn's", ours_inertia <= ref_inertia * (1 + INERTIA_SLACK),
                   f"k segscore {k_seg}, scikit-learn {peer_out['k']}; inertia segscore "
                   f"{ours_inertia:.6g}, scikit-learn (k = {k_seg}) {ref_inertia:.6g} "
                   f"(ratio {ours_inertia / ref_inertia:.4f}); adjusted Rand index {ari:.3f} "
                   f"on {n_ari:,} customers"))


def bench(args):
    os.makedirs(args.work, exist_ok=True)
    data = args.input
    if not data:
        data = os.path.join(args.work, f"gen_{args.customers}.h5")
        if not os.path.exists(data):
            print(f"generating {args.customers} customers ...", flush=True)
            subprocess.run([args.segscore, "generate", "-q", "--customers", str(args.customers),
                            "--seed", "42", "--no-events", "--compression", "0", "-o", data],
                           check=True)
    cfg = os.path.join(args.work, "config.json")
    with open(cfg, "w") as f:
        json.dump(CONFIG, f)
    seg_dir = os.path.join(args.work, "segscore")
    py_dir = os.path.join(args.work, "python")
    os.makedirs(seg_dir, exist_ok=True)
    results = os.path.join(seg_dir, "results.h5")
    print("machine: " + machine())
    print(f"input: {data}; load average before: {load()}", flush=True)
    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        subprocess.run([args.segscore, "run", "-q", "-i", data, "-o", results, "-c", cfg,
                        "--threads", str(args.threads)], check=True)
        wall = time.perf_counter() - t0
        with open(os.path.join(seg_dir, "summary.json")) as f:
            runs.append((wall, json.load(f)))
    runs.sort(key=lambda r: r[0])
    wall, summary = runs[len(runs) // 2]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads))
    out = subprocess.run(["/usr/bin/python3", "-B", os.path.abspath(__file__), "--peer", data,
                          py_dir], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(out.stdout + out.stderr)
        return False
    peer_out = json.loads(out.stdout.strip().splitlines()[-1])
    load_after = load()

    s = {st["name"]: st["seconds"] for st in summary["steps"]}
    p = peer_out["seconds"]
    rows = [("read", s["read"], p["read"], "h5py into a DataFrame"),
            ("summary", s["group"] + s["summarize"], p["summary"],
             "group + summarize / groupby"),
            ("rfm", s["rfm"], p["rfm"], "rank(method=min)"),
            ("value", s["value"], p["value"],
             "BG/NBD + Gamma-Gamma fits, scores, CLV / scipy BFGS"),
            ("segments", s["segments"], p["segments"],
             "k by silhouette, k-means on all / scikit-learn"),
            ("lists", s["stages"] + s["opportunities"], p["list"],
             "stages + triggers / one at-risk rule"),
            ("write", s["write"] + s.get("write customers", 0.0), p["write"],
             "results.h5, CSVs, report / to_csv of two tables")]
    print(f"\n== {peer_out['customers']:,} customers, {summary['input']['rows_used']:,} "
          f"transactions, {peer_out['histories']:,} distinct histories, {args.threads} threads")
    print(f"{'step':<9} {'segscore s':>10} {'Python s':>9} {'ratio':>7}  what")
    for name, a, b, what in rows:
        print(f"{name:<9} {a:10.3f} {b:9.3f} {b / a:6.1f}x  {what}")
    both_seg = sum(r[1] for r in rows)
    others = sum(v for k, v in s.items() if k not in
                 ("read", "group", "summarize", "rfm", "value", "segments", "stages",
                  "opportunities", "write", "write customers"))
    print(f"{'steps':<9} {both_seg:10.3f} {p['total']:9.3f} {p['total'] / both_seg:6.1f}x  "
          "the steps above")
    print(f"{'run':<9} {wall:10.3f} {p['total']:9.3f} {p['total'] / wall:6.1f}x  segscore's "
          f"whole process (every step{', events %.3f s' % others if others else ''}, "
          "start-up, publishing) against the Python steps")
    if args.repeat > 1:
        print("segscore runs (wall): " + ", ".join(f"{r[0]:.2f} s" for r in runs) +
              " (the median one shown)")
    print(f"peak memory: segscore {summary['peak_rss_mb']:.0f} MiB, Python "
          f"{peer_out['peak_rss_mb']:.0f} MiB")
    bgp, ggp = peer_out["bgnbd"], peer_out["gammagamma"]
    vp, sp = p["value_parts"], p["segments_parts"]
    print("Python value step: " + ", ".join(f"{k} {v:.2f} s" for k, v in vp.items()) +
          "; segments: " + ", ".join(f"{k} {v:.2f} s" for k, v in sp.items()))
    print(f"Python fits: BG/NBD {bgp['iterations']} iterations ({bgp['message']}), "
          f"Gamma-Gamma on {peer_out['gg_customers']:,} customers {ggp['iterations']} "
          f"iterations ({ggp['message']}); k by silhouette "
          + ", ".join(f"{k}: {sil:.3f}" for k, sil, _ in peer_out["k_table"]))
    print(f"load average after: {load_after}; list rows: segscore "
          f"{summary['opportunities'].get('listed', '?')}, Python {peer_out['list_rows']:,}")

    checks = []
    compare(results, py_dir, peer_out, checks)
    print("\nagreement:")
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    ok = all(c[1] for c in checks)
    print("results agree: " + ("yes" if ok else "NO"))
    return ok


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--peer":
        peer(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1000000,
                   help="size of the generated input (ignored with --input)")
    p.add_argument("--input", help="an existing input file instead (read only)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1, help="segscore runs; the median is reported")
    p.add_argument("--segscore", default="build/segscore")
    p.add_argument("--work", default="bench-data/pybench")
    args = p.parse_args()
    try:
        import h5py, numpy, pandas, scipy, sklearn  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (scripts/install-deps with SGS_WITH_PEERS=1 installs Debian's "
              "python3-numpy, -scipy, -pandas, -h5py and -sklearn)")
        sys.exit(77)
    sys.exit(0 if bench(args) else 1)


if __name__ == "__main__":
    main()
