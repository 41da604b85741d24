#!/usr/bin/env python3
"""
tests/data/make_bg_reference.py -- high-precision reference values of the BG/NBD and MBG/NBD
per-customer expressions, written to tests/data/bg_expected_reference.csv and checked by
tests/unit/test_bg_reference.c.

    python3 tests/data/make_bg_reference.py [--check-every N] [-o PATH]

Library: mpmath 1.3.0 (any 1.x should do), nothing else. The formulas are the published
ones, evaluated in 60-digit arithmetic, independently of the C code:

  BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", eq. 10 and
  note 021), m = 0; MBG/NBD (Batislam, Denizel & Filiztekin 2007, with the erratum of
  Wagner & Hoppe 2008, as in lifetimes' ModifiedBetaGeoFitter), m = 1. With R = r+x,
  B = b+x+m, C = a+B-1, z = t/(alpha+T+t):

    expected_if_alive = C/(a-1) [1 - ((alpha+T)/(alpha+T+t))^R 2F1(R, B; C; z)]
    p_alive           = 1 / (1 + [x>0 or m] a/(b+x-1+m) ((alpha+T)/(alpha+t_x))^R)
    expected          = expected_if_alive * p_alive
    prob_no_purchase  = 1 - p_alive (1 - ((alpha+T)/(alpha+T+t))^R)

  2F1 is mpmath.hyp2f1. Every value is computed at 60 and again at 90 digits; a row whose two
  results differ by more than 1e-40 relative stops the script (method "hyp2f1"). Where the
  closed form is 0/0 (a = 1, or C = 0: x = 0 and a + b = 1 in the BG/NBD) it is analytic
  in a and b, and the value is the mean of the closed form at a +- 1e-30 (or b +- 1e-30),
  at 90 digits (method "limit"). Should hyp2f1 fail to converge, the value comes from the
  integral below (method "integral"; none does on this grid).

  Cross-check, independent of the hypergeometric function: given the rate and the drop-out
  probability p an alive customer makes (1 - e^(-lambda p t))/p purchases on average (FHL,
  eq. 7 to 9), and mixing lambda over Gamma(R, alpha+T) gives

    expected_if_alive = E[(1 - (1 + p t/(alpha+T))^-R) / p],  p ~ Beta(a, B),

  integrated with mpmath.quad (tanh-sinh) at 40 digits: the halves p < 1/2 and 1-p < 1/2
  separately, each endpoint's power singularity s^(k-1), k < 1, taken out exactly (g(0)
  s^k / k plus the integral of s^(k-1) (g(s) - g(0))), breakpoints at the mode +- 10..60
  standard deviations, at 2^-k and at 1/(R u), 1/u. Every --check-every-th row (default 20)
  and every fifth "limit" row with a <= 2 is checked (for larger a the Beta weight has a
  narrow peak that tanh-sinh resolves only to about 1e-10); the largest relative difference
  is printed and must be below 1e-25.

Grid: both models over
  - named parameter sets: the CDNOW fits, the fits of issue 11 (a = 0.0095 with r = 84.5 and
    alpha = 9006; a + b < 1; MBG/NBD r = 1066; BG/NBD r = 3672), a = 1 and a + b = 1
    exactly, a = 1 + 1e-9, the benchmark's parameters; ten customers each (x = 0 with T = 0,
    3 and 1000; t_x = T; x up to 1e4) and horizons 1 .. 3650;
  - corners: r in {0.01, 84.5, 1e4} and alpha in {0.5, 30, 1e4} with r/alpha <= 20 per time
    unit, a in {1e-4, 0.5, 1.2, 30}, b in {0.01, 0.404, 1e4}; six customers, horizons 1, 365,
    2000;
  - 300 random points (seed 11), log-uniform: r in [1e-2, 1e4], alpha in [0.5, 1e4],
    a in [1e-4, 100], b in [1e-2, 1e4], x in [0, 1e4], T in [0, 3000], t in [1, 5000].
Inputs are written as the shortest decimal that reads back as the same double, and the
reference values are computed from those doubles exactly; outputs are rounded to the
nearest double (17 significant digits).
"""
import argparse
import math
import random
import sys
import time

import mpmath as mp

HEADER = ("model,r,alpha,a,b,x,t_x,T,t,method,"
          "expected_if_alive,p_alive,expected,prob_no_purchase")


def closed_form(m, r, al, a, b, x, T, t, dps):
    with mp.workdps(dps):
        r, al, a, b, x, T, t = map(mp.mpf, (r, al, a, b, x, T, t))
        R, B = r + x, b + x + m
        C = a + B - 1
        z = t / (al + T + t)
        ratio = (al + T) / (al + T + t)
        return C / (a - 1) * (1 - ratio ** R * mp.hyp2f1(R, B, C, z, maxterms=10 ** 6))


def closed_form_limit(m, r, al, a, b, x, T, t):
    """The closed form where it is 0/0 (a = 1, or C = a+b+x+m-1 = 0): the mean of its values
    at a +- h (a = 1) or b +- h (C = 0), h = 1e-30, at 90 digits; the function is analytic
    there, so the mean is within O(h^2) of the limit."""
    with mp.workdps(90):
        h = mp.mpf('1e-30')
        if a == 1:
            lo = closed_form(m, r, al, mp.mpf(a) - h, b, x, T, t, 90)
            hi = closed_form(m, r, al, mp.mpf(a) + h, b, x, T, t, 90)
        else:
            lo = closed_form(m, r, al, a, mp.mpf(b) - h, x, T, t, 90)
            hi = closed_form(m, r, al, a, mp.mpf(b) + h, x, T, t, 90)
        return (lo + hi) / 2


def integral(m, r, al, a, b, x, T, t, dps=40):
    with mp.workdps(dps):
        r, al, a, b, x, T, t = map(mp.mpf, (r, al, a, b, x, T, t))
        R, B = r + x, b + x + m
        u = t / (al + T)
        half = mp.mpf(1) / 2

        def f(p):  # (1 - (1+pu)^-R)/p, continuous at p = 0
            return R * u if p == 0 else -mp.expm1(-R * mp.log1p(p * u)) / p

        def g(p):  # p in [0, 1/2]: (1-p)^(B-1) f(p)
            return (1 - p) ** (B - 1) * f(p)

        def k(q):  # q = 1-p in [0, 1/2]: (1-q)^(a-1) f(1-q)
            return (1 - q) ** (a - 1) * f(1 - q)

        def pts(cands):
            return [mp.mpf(0)] + sorted(set(c for c in cands if 0 < c < half)) + [half]

        sd = mp.sqrt(a * B / ((a + B) ** 2 * (a + B + 1)))
        mode = a / (a + B)
        cp = [1 / (R * u), 1 / u] + [mode + j * sd for j in range(-10, 61)]
        cp += [mp.mpf(2) ** -k for k in range(1, 80)]
        cq = [1 - c for c in cp] + [mp.mpf(2) ** -k for k in range(1, 80)]
        # below 1 the power singularity is taken out; above, subtracting would cancel
        g0 = g(mp.mpf(0)) if a < 1 else 0
        k0 = k(mp.mpf(0)) if B < 1 else 0
        left = g0 * half ** a / a + mp.quad(lambda p: p ** (a - 1) * (g(p) - g0), pts(cp))
        right = k0 * half ** B / B + mp.quad(lambda q: q ** (B - 1) * (k(q) - k0), pts(cq))
        return (left + right) / mp.beta(a, B)


def probabilities(m, r, al, a, b, x, t_x, T, t):
    with mp.workdps(60):
        r, al, a, b, x, t_x, T, t = map(mp.mpf, (r, al, a, b, x, t_x, T, t))
        R = r + x
        if x > 0 or m:
            p_alive = 1 / (1 + a / (b + x - 1 + m) * ((al + T) / (al + t_x)) ** R)
        else:
            p_alive = mp.mpf(1)
        no_buy_if_alive = ((al + T) / (al + T + t)) ** R
        return p_alive, 1 - p_alive * (1 - no_buy_if_alive)


def rows():
    named = [
        (0.243, 4.414, 0.793, 2.426),  # CDNOW BG/NBD (weeks)
        (0.525, 6.183, 0.891, 1.614),  # CDNOW MBG/NBD (weeks)
        (84.5, 9006.0, 0.0095, 0.404),  # issue 11 item 3
        (0.25, 8.0, 0.05, 0.5),  # a + b < 1 (issue 11 item 9)
        (0.25493809952190855, 9.043517530632624, 0.047523900808845214, 0.47760214509149684),
        (1065.7371578046036, 4822.68817345393, 1.1964569403883862, 6.8399621593068245),
        (3672.0, 14700.0, 0.8, 3.0),  # BG/NBD with large r
        (0.5, 3.0, 1.0, 2.0),  # a = 1 exactly
        (0.5, 3.0, 1.000000001, 2.0),  # a = 1 + 1e-9
        (0.7, 10.0, 0.25, 0.75),  # a + b = 1 exactly: C = 0 at x = 0 in the BG/NBD
        (0.5, 60.0, 0.7, 2.5),  # bench_value_models
    ]
    named_cust = [(0, 0, 0), (0, 0, 3), (0, 0, 1000), (1, 3, 3), (2, 30.43, 38.86),
                  (7, 200, 365), (20, 700, 730), (100, 300, 300), (1000, 2000, 2500),
                  (10000, 10000, 10000)]
    named_t = [1, 7, 30, 365, 1000, 3650]
    for m in (0, 1):
        for p in named:
            for c in named_cust:
                for t in named_t:
                    yield (m,) + p + c + (t,)
    corner_ra = [(r, al) for r in (0.01, 84.5, 1e4) for al in (0.5, 30.0, 1e4) if r / al <= 20]
    corner_cust = [(0, 0, 0), (0, 0, 3), (0, 0, 1000), (1, 3, 3), (7, 200, 365),
                   (10000, 10000, 10000)]
    for m in (0, 1):
        for r, al in corner_ra:
            for a in (1e-4, 0.5, 1.2, 30.0):
                for b in (0.01, 0.404, 1e4):
                    for c in corner_cust:
                        for t in (1, 365, 2000):
                            yield (m, r, al, a, b) + c + (t,)
    rng = random.Random(11)

    def lu(lo, hi):
        return float('%.6g' % math.exp(rng.uniform(math.log(lo), math.log(hi))))

    for i in range(300):
        m = i % 2
        r, al, a, b = lu(1e-2, 1e4), lu(0.5, 1e4), lu(1e-4, 100), lu(1e-2, 1e4)
        T = float(rng.choice([0, 3, rng.randint(1, 3000)]))
        x = float(min(rng.choice([0, 1, int(lu(1, 1e4))]), max(T, 0)))
        t_x = float(T if x == 0 or rng.random() < 0.3 else rng.randint(0, int(T)))
        if x == 0:
            t_x = 0.0
        t = float(rng.choice([1, 30, 365, rng.randint(1, 5000)]))
        yield (m, r, al, a, b, x, t_x, T, t)


def fmt(v):
    return repr(float(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check-every', type=int, default=20)
    ap.add_argument('-o', default='tests/data/bg_expected_reference.csv')
    args = ap.parse_args()
    out = []
    worst_check, n_checked, n_integral = 0.0, 0, 0
    start = time.time()
    for i, row in enumerate(rows()):
        if i % 500 == 0:
            print('row %d, %.0f s' % (i, time.time() - start), file=sys.stderr, flush=True)
        m, r, al, a, b, x, t_x, T, t = row
        C = a + b + x + m - 1
        if C == 0 or a == 1:
            method, e = 'limit', closed_form_limit(m, r, al, a, b, x, T, t)
        else:
            try:
                e60 = closed_form(m, r, al, a, b, x, T, t, 60)
                e = closed_form(m, r, al, a, b, x, T, t, 90)
                method = 'hyp2f1'
                if abs(e60 - e) > mp.mpf('1e-40') * abs(e):
                    sys.exit('row %d %r: 60 and 90 digits disagree: %s %s' % (i, row, e60, e))
            except (mp.libmp.NoConvergence, ZeroDivisionError, ValueError):
                if a > 2:
                    sys.exit('row %d %r: hyp2f1 failed and a > 2' % (i, row))
                method, e = 'integral', integral(m, r, al, a, b, x, T, t)
                n_integral += 1
        # the integral is trusted where the Beta weight has no narrow peak away from 0
        check = method != 'integral' and a <= 2 and args.check_every and (
            i % args.check_every == 0 or (method == 'limit' and i % 5 == 0))
        if check:
            d = abs(integral(m, r, al, a, b, x, T, t) - e) / abs(e)
            worst_check = max(worst_check, float(d))
            n_checked += 1
            if d > mp.mpf('1e-25'):
                sys.exit('row %d %r: integral differs by %s' % (i, row, mp.nstr(d, 3)))
        if not (e > 0):
            sys.exit('row %d %r: expected purchases %s not > 0' % (i, row, e))
        p_alive, no_buy = probabilities(m, r, al, a, b, x, t_x, T, t)
        model = 'mbgnbd' if m else 'bgnbd'
        out.append(','.join([model] + [fmt(v) for v in (r, al, a, b, x, t_x, T, t)] +
                            [method] + [fmt(v) for v in (e, p_alive, e * p_alive, no_buy)]))
    with open(args.o, 'w') as fh:
        fh.write('# BG/NBD and MBG/NBD reference values: tests/data/make_bg_reference.py, '
                 'mpmath %s\n' % mp.__version__)
        fh.write(HEADER + '\n')
        fh.write('\n'.join(out) + '\n')
    print('%d rows (%d by the integral), %d cross-checked by the integral: largest relative '
          'difference %.3g; %.0f s' % (len(out), n_integral, n_checked, worst_check,
                                       time.time() - start))
    if n_checked == 0:
        sys.exit('nothing was cross-checked')


if __name__ == '__main__':
    main()
