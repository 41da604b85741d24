#!/usr/bin/env python3
"""Reference values for the Pareto/NBD kernels (tests/unit/test_pareto_reference.c).

Writes, next to this script:
  pareto_hyp2f1_reference.csv  ln 2F1(a, b; a+1; z), ln 2F1 + b ln(1-z) (the scaled value the
                               kernel returns beside it) and the derivatives in a, b, z
  pareto_reference.csv         per-customer log-likelihood, its gradient, P(alive),
                               expected purchases and P(no purchase)

Everything is computed with mpmath (1.3.0) at 80 significant digits, from the published
formulas, independently of the C code:
  - 2F1 by mpmath.hyp2f1 (its own series and transformations); d/dz by the closed form
    d/dz 2F1(a, b; c; z) = a b / c 2F1(a+1, b+1; c+1; z); d/da and d/db by mpmath.diff.
  - the likelihood by Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and
    Related Expressions", eq. 22-23 (the 2F1 form, branch on alpha >= beta), and checked
    against Schmittlein, Morrison & Colombo (1987)'s integral form
      L = G(r+x) a^r b^s / G(r) [ (a+T)^-(r+x) (b+T)^-s + s int_{t_x}^T (a+t)^-(r+x) (b+t)^-(s+1) dt ]
    by mpmath.quad (the script stops if the two differ beyond 1e-30 relative);
  - the gradient by mpmath.diff of that log-likelihood;
  - P(alive) by FH eq. 24, E[Y(t) | x, t_x, T] by FH eq. 27 (SMC eq. 22), and
    P(no purchase in (T, T+t]) = 1 - P(alive) + P(alive) P0, P0 the likelihood of a new
    customer with parameters (r+x, alpha+T, s, beta+T) at x = 0, t_x = 0, T = t (FH note 012).

Inputs are written as exact doubles (17 significant digits), references with 25 digits.
The grid covers the corners the fits reach: s -> 0 (1e-6), beta up to 1e6, r and alpha up
to 1e4, x up to 1e4, t_x = T, alpha = beta (the branch point), alpha >> beta, beta >> alpha;
and 2F1 at the end points the grid uses plus seeded random arguments (a, b up to 2e4, 1 - z
down to 1e-30).

Run: python3 tests/data/make_pareto_reference.py   (a few minutes)
"""
import csv
import os
import random

import mpmath as mp

mp.mp.dps = 80
HERE = os.path.dirname(os.path.abspath(__file__))

# (r, alpha, s, beta): CDNOW (FH 2005), then the corners
PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # CDNOW estimates, alpha < beta
    (2.0, 5.0, 0.2, 5.0),  # alpha == beta: the branch point
    (1.2, 30.0, 0.7, 30.00000003),  # just across the branch point
    (0.8, 10000.0, 1.3, 0.5),  # alpha >> beta
    (0.3, 0.5, 0.9, 1000000.0),  # beta >> alpha
    (0.444606, 9.57274, 1e-06, 1000000.0),  # s -> 0, beta large (a retail fit drifting)
    (0.5, 50.0, 1e-06, 0.01),  # s -> 0, alpha >> beta
    (10000.0, 10000.0, 0.05, 20.0),  # r, alpha large, alpha >> beta
    (500.0, 2000.0, 1e-06, 1000000.0),  # large r with s -> 0, beta >> alpha
    (10000.0, 1000.0, 3.0, 1000000.0),  # r large, beta largest
    (1.5, 900.0, 50.0, 2.0),  # s large, alpha >> beta
    (0.001, 1.0, 0.001, 100.0),  # r and s small
]

# (x, t_x, T, horizon t)
HISTORIES = [
    (0, 0.0, 39.0, 39.0),
    (0, 0.0, 730.0, 365.0),
    (1, 0.1, 50.0, 52.0),
    (2, 30.43, 38.86, 39.0),  # FHL's customer 1
    (15, 20.0, 21.0, 52.0),
    (60, 35.0, 39.0, 39.0),
    (3, 7.0, 7.0, 52.0),  # t_x = T
    (5, 364.9, 365.0, 365.0),
    (100, 1.0, 365.0, 365.0),
    (10000, 364.0, 365.0, 52.0),
    (10000, 365.0, 365.0, 52.0),  # x = 1e4, t_x = T
]


def hyp(a, b, z):
    """2F1(a, b; a+1; z) by mpmath."""
    return mp.hyp2f1(a, b, a + 1, z, maxterms=10**6)


def loglik_fh(r, al, s, be, x, tx, T):
    """ln L by FH eq. 22-23 (mpmath values in, mpmath out), and P(alive)."""
    a = r + s + x
    if al >= be:
        k, b = al, s + 1
        z1, z2 = (al - be) / (al + tx), (al - be) / (al + T)
    else:
        k, b = be, r + x
        z1, z2 = (be - al) / (be + tx), (be - al) / (be + T)
    a0 = hyp(a, b, z1) / (k + tx) ** a - hyp(a, b, z2) / (k + T) ** a
    first = 1 / ((al + T) ** (r + x) * (be + T) ** s)
    rest = s / a * a0
    c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
    return c + mp.log(first + rest), first / (first + rest)


def loglik_smc(r, al, s, be, x, tx, T):
    """ln L by SMC's integral form, the integral by mpmath.quad in u = ln(min(al, be) + t),
    relative to the integrand at t_x, with break points on the integrand's own scale."""
    c0 = min(al, be)
    first = -(r + x) * mp.log(al + T) - s * mp.log(be + T)
    c = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
    if tx >= T:
        return c + first
    u0, u1 = mp.log(c0 + tx), mp.log(c0 + T)

    def lf(u):
        t = mp.exp(u) - c0
        return -(r + x) * mp.log(al + t) - (s + 1) * mp.log(be + t) + u

    ref = max(lf(u0), lf(u1))
    slope = abs(mp.diff(lf, u0)) + 1
    pts = [u0] + [u0 + k / slope for k in (1, 4, 16, 64, 256) if u0 + k / slope < u1] + [u1]
    integral = mp.quad(lambda u: mp.exp(lf(u) - ref), pts)
    return c + mp.log(mp.exp(first) + s * integral * mp.exp(ref))


def row_values(p, h):
    r, al, s, be = [mp.mpf(v) for v in p]
    x, tx, T, t = [mp.mpf(v) for v in h]
    ll, palive = loglik_fh(r, al, s, be, x, tx, T)
    check = loglik_smc(r, al, s, be, x, tx, T)
    if abs(ll - check) > mp.mpf(10) ** -30 * max(1, abs(ll)):
        raise SystemExit("FH and SMC disagree at %s %s: %s %s" % (p, h, ll, check))
    grad = [
        mp.diff(lambda v: loglik_fh(v, al, s, be, x, tx, T)[0], r),
        mp.diff(lambda v: loglik_fh(r, v, s, be, x, tx, T)[0], al),
        mp.diff(lambda v: loglik_fh(r, al, v, be, x, tx, T)[0], s),
        mp.diff(lambda v: loglik_fh(r, al, s, v, x, tx, T)[0], be),
    ]
    bracket = (1 - ((be + T) / (be + T + t)) ** (s - 1)) / (s - 1)
    expected = (r + x) * (be + T) / (al + T) * bracket * palive
    p0 = mp.exp(loglik_fh(r + x, al + T, s, be + T, 0, 0, t)[0])
    pnp = 1 - palive + palive * p0
    return [ll] + grad + [palive, expected, pnp]


def hyp_row(a, b, pp, z, zc):
    """References for one 2F1 row; z is 1 - zc exactly (the C side gets zc exactly)."""
    A, B, ZC = mp.mpf(a), mp.mpf(b), mp.mpf(zc)
    Z = 1 - ZC
    f = hyp(A, B, Z)
    lf = mp.log(f)
    dz = A * B / (A + 1) * mp.hyp2f1(A + 1, B + 1, A + 2, Z, maxterms=10**6) / f
    da = mp.diff(lambda v: mp.log(hyp(v, B, Z)), A)
    db = mp.diff(lambda v: mp.log(hyp(A, v, Z)), B)
    return [lf, lf + B * mp.log(ZC), da, db, dz]


def end_args(p, x, t):
    """The (a, b, a+1-b, z, 1-z) at which the kernel evaluates 2F1, in doubles."""
    r, al, s, be = p
    a = r + s + x
    if al >= be:
        k, o, b, q = al, be, s + 1.0, r + x
    else:
        k, o, b, q = be, al, r + x, s + 1.0
    z, zc = (k - o) / (k + t), (o + t) / (k + t)
    return a, b, exact_p(a, b), max(z, 0.0), zc


def exact_p(a, b):
    """a + 1 - b rounded once, so that the p given to the kernel is the p of (a, b)."""
    return float(mp.mpf(a) + 1 - mp.mpf(b))


def fmt(v):
    return mp.nstr(v, 25, min_fixed=-5, max_fixed=5)


def main():
    hyp_rows, seen = [], set()
    with open(os.path.join(HERE, "pareto_reference.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["r", "alpha", "s", "beta", "x", "t_x", "T", "t", "loglik", "d_r",
                    "d_alpha", "d_s", "d_beta", "p_alive", "expected", "p_no_purchase"])
        for p in PARAMS:
            for h in HISTORIES:
                vals = row_values(p, h)
                w.writerow([repr(float(v)) for v in p + h] + [fmt(v) for v in vals])
                for t in (h[1], h[2]):
                    args = end_args(p, h[0], t)
                    if args not in seen and args[3] > 0.0:
                        seen.add(args)
                        hyp_rows.append(args)
            print("params", p, "done", flush=True)
    rng = random.Random(20261206)
    for _ in range(200):
        s = 10 ** rng.uniform(-7, 4)
        v = 10 ** rng.uniform(-4, 4.3)
        b, q = (1 + s, v) if rng.random() < 0.5 else (v, 1 + s)
        a = b + q - 1
        q = exact_p(a, b)
        if rng.random() < 0.3:  # z <= 1/2 on a dyadic grid, so that 1 - z is exact
            z = round(rng.uniform(0.0, 0.5) * 2**40) / 2**40
            zc = 1.0 - z
        else:
            zc = 10 ** rng.uniform(-30, -0.302)
            z = 1.0 - zc
        hyp_rows.append((a, b, q, z, zc))
    with open(os.path.join(HERE, "pareto_hyp2f1_reference.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["a", "b", "p", "z", "zc", "log_f", "log_fs", "d_a", "d_b", "d_z"])
        for args in hyp_rows:
            w.writerow([repr(float(v)) for v in args] + [fmt(v) for v in hyp_row(*args)])
    print("wrote", len(hyp_rows), "2F1 rows and", len(PARAMS) * len(HISTORIES), "customer rows")


if __name__ == "__main__":
    main()
