/*
 * kernels/special.h — special functions and log-space helpers for the lifetime value models
 * (kernels/bgnbd.h, kernels/mbgnbd.h, kernels/paretonbd.h, kernels/gammagamma.h).
 *
 * Every function here is pure: no global state, safe to call from any thread, and the
 * same arguments always give the same bits. None allocates.
 */
#ifndef SGS_SPECIAL_H
#define SGS_SPECIAL_H

/* ---- Log-space helpers ---------------------------------------------------------------- */

/* ln Γ(x) for x > 0, through the reentrant lgamma_r (plain lgamma writes the global
 * `signgam`, a data race under OpenMP). */
double sgs_lgamma(double x);

/* Digamma ψ(x) = d ln Γ(x)/dx for x > 0: upward recurrence ψ(x) = ψ(x+1) - 1/x to x >= 10,
 * then the asymptotic series ln x - 1/(2x) - Σ B_2k/(2k x^2k) (Abramowitz & Stegun 6.3.18,
 * seven terms); absolute error below 1e-15 for x >= 10. NaN for x <= 0. */
double sgs_digamma(double x);

/* Trigamma ψ1(x) = d²lnΓ(x)/dx² for x > 0: recurrence ψ1(x) = ψ1(x+1) + 1/x² to x >= 10,
 * then the asymptotic series 1/x + 1/(2x²) + Σ B_2k / x^(2k+1) (A&S 6.4.12). NaN for x <= 0. */
double sgs_trigamma(double x);

/* ln(e^a + e^b) without overflow; -inf when both are -inf. */
double sgs_logaddexp(double a, double b);

/* ln(1 + e^x) without overflow or loss for large negative x. */
double sgs_log1pexp(double x);

/* ln(1 - e^x) for x <= 0 (Mächler 2012, "Accurately computing log(1 - exp(-|a|))": expm1
 * for x > -ln 2, log1p otherwise). -inf at x == 0; NaN for x > 0. */
double sgs_log1mexp(double x);

/* Logistic function 1 / (1 + e^-x), computed without overflow for either sign. */
double sgs_sigmoid(double x);

/* ---- Gauss hypergeometric function, the special case c = a + 1 -------------------------
 *
 * ln ₂F₁(a, b; a+1; z) and its partial derivatives with respect to a, b and z, for a > 0,
 * 0 < b < a + 1 and 0 <= z < 1. This is the function of the Pareto/NBD likelihood (Fader &
 * Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions", eq. 22-23),
 * where b is one of the two exponents r+x and s+1, a + 1 - b the other, and the branch on
 * alpha >= beta keeps z in [0, 1). With p = a + 1 - b > 0 and zc = 1 - z it is the
 * incomplete beta function with a negative second parameter,
 *   F = a z^-a B_z(a, 1-b) = a z^-a ∫_{σ0}^∞ e^ψ(σ) dσ,
 *   ψ(σ) = (1-b) σ - p ln(1 + e^σ),  σ0 = ln(zc / z)   (t = 1/(1 + e^σ) in B_z),
 * and ψ is concave (ψ'' = -p ρ(1-ρ), ρ = 1/(1 + e^-σ)).
 *
 * Method, by region; the first that applies is used:
 *  A. z <= 1/2, or z > 1/2 when the bound below says the series ends within 128 terms:
 *     Euler's transformation (A&S 15.3.3) F = zc^(1-b) Σ_k (p)_k/(a+1)_k z^k. Every ratio of
 *     terms is (p+k)/(a+1+k) z < z, so the tail after a term t is below t z/zc: summed until
 *     that is below 1e-16 of the sum (and the z-derivative's tail below 1e-15 of it; within
 *     64 terms at z = 1/2). Predicted in advance for z > 1/2 from t_K <= z^K ((a+1)/(a+1+K))^b.
 *  B. z > 1/2, b z <= (a+1) zc / 2: Pfaff's transformation (A&S 15.3.4)
 *     F = zc^-b ₂F₁(1, b; a+1; -z/zc) = zc^-b a ∫_0^1 (1-u)^(a-1) (1 + u z/zc)^-b du.
 *     (1 + x)^-b is completely monotone, so after any number of terms of its Taylor series
 *     the remainder is at most the first omitted term: the series Σ (b)_k/(a+1)_k (-z/zc)^k
 *     is summed, convergent or not, until the next term is below 1e-16 of the sum, with that
 *     as a rigorous bound; it is used only if this happens before the terms grow (within
 *     64 terms). This is the region of large a with z close to 1 (a fit drifting to
 *     r -> ∞ or s -> ∞), where A converges slowly.
 *  C. Otherwise, the integral above in three parts:
 *     - σ0 <= σ <= σe, e^σe = 1/(4 max(p, 1)): (1 + e^σ)^-p expanded in powers of e^σ, each
 *       term integrated in closed form (anchored at the end where it is largest, so that no
 *       exponential overflows and the limit at 1-b+j = 0 needs no special case); alternating,
 *       each term at most 1/2 of the one before, summed to 1e-16 (within 64 terms). This
 *       covers z -> 1 with s -> 0, where the integrand is nearly flat over a long range;
 *     - σe <= σ <= 0: 12-point Gauss-Legendre panels, each narrow enough that width x max|ψ'|
 *       <= 3 and width² x max|ψ''| <= 1 on it (wider, up to 4x, where the tangent bound below
 *       says the rest of the integral is already small against the total, so that the
 *       panel's larger relative error is still below 1e-16 of the total); the rest is
 *       skipped once the tangent bound e^ψ/|ψ'| (ψ concave) is below 1e-16 of the total (at
 *       most 64 panels; at most 14 seen, since ρ grows e-fold per unit of σ);
 *     - σ >= 0: F(a, b; a+1; 1/2) 2^-a / a by A.
 *     Everything is relative to the maximum of the integrand, in logs.
 * The derivatives come term by term (A, B) or from integrals of ∂ψ/∂a = -ln(1 + e^σ) and
 * ∂ψ/∂b = ln(1 + e^-σ) over the same nodes, and ∂/∂z from the moving end σ0 (C).
 *
 * Error bound: every series and quadrature is cut at 1e-16 of its sum; against 80-digit
 * values (tests/data/pareto_hyp2f1_reference.csv, mpmath) the error of ln F is within
 * 1e-13 max(1, |ln F|), of the derivatives within 1e-11 max(1, |d|) (measured worst there
 * and over 4,500 further random arguments: 2e-14 and 8e-13), for a and b up to 2e4 and
 * 1 - z down to 1e-30. Work is bounded: at most 128 + 64 + 64 + 64 series terms and 64 x 12
 * integrand evaluations per call (measured worst over 10^6 random arguments, a and b from
 * 1e-18 to 1e18 and 1 - z down to 1e-40: 240 in all). No allocation, no global state.
 *
 * Writes ln F to *log_f and, when d_log_f is not NULL, ∂lnF/∂a (b fixed), ∂lnF/∂b (a fixed),
 * ∂lnF/∂z to d_log_f[0..2].
 * @return 0, or SGS_EINVAL when an argument is out of range or not finite (outputs untouched).
 */
int sgs_hyp2f1_ap1(double a, double b, double z, double *log_f, double *d_log_f);

/* Result of sgs_hyp2f1_ap1_ex. */
typedef struct sgs_hyp2f1 {
    double log_f;  /* ln F */
    double log_fs; /* ln F + b ln(1-z): F without the factor (1-z)^-b it grows by as z -> 1,
                      formed inside each method, without the cancellation of two terms of size
                      b |ln(1-z)| that adding b ln(1-z) to log_f would cost */
    double d[3];   /* ∂ln F/∂a (b fixed), ∂ln F/∂b (a fixed), ∂ln F/∂z */
    int n_work;    /* series terms and integrand evaluations used */
} sgs_hyp2f1_t;

/* The same, with p = a + 1 - b and zc = 1 - z given by the caller, exact: the Pareto/NBD
 * forms them from its parameters (p = r+x or s+1; zc = (min(α,β) + t)/(max(α,β) + t)), so
 * that a tiny p or zc keeps its digits (z may then round to 1). Requires
 * |a + 1 - b - p| <= 1e-12 (a + 1 + b) and |z + zc - 1| <= 1e-12, zc > 0.
 * @return 0 with *out written, or SGS_EINVAL (out untouched). */
int sgs_hyp2f1_ap1_ex(double a, double b, double p, double z, double zc, sgs_hyp2f1_t *out);

/* ---- Expected purchases of the BG/NBD family ------------------------------------------
 *
 * M(R, a, B, u) = E[(1 - (1 + p u)^-R) / p] over p ~ Beta(a, B), for R, a, B > 0, u >= 0.
 *
 * This is the expected number of purchases in the next t time units of a customer alive now
 * whose purchase rate is λ ~ Gamma(R, α') and who drops out with probability p ~ Beta(a, B)
 * after each purchase: given λ and p the expectation is (1 - e^(-λpt))/p (Fader, Hardie &
 * Lee 2005, the step from eq. 7 to eq. 9), and E over λ gives (1 + pu)^-R with u = t/α'.
 * BG/NBD (FHL eq. 10): R = r+x, B = b+x, u = t/(α+T); MBG/NBD (Batislam et al. 2007):
 * B = b+x+1. The closed form is ((a+B-1)/(a-1)) [1 - (1-z)^R ₂F₁(R, B; a+B-1; z)] with
 * z = u/(1+u) (Euler's integral for ₂F₁ when a > 1, analytic continuation otherwise); the
 * integral is finite and positive for every a, B > 0, also where that ₂F₁ has c = a+B-1 <= 0
 * (x = 0 and a+b < 1 in the BG/NBD): there the closed form holds as a limit and M is
 * computed without it. 0 <= M <= R u, M increases with u.
 *
 * Method, by region (first that applies; each branch checks its own accuracy):
 *  1. c = a+B-1 > 0 and 40 (1+u) <= 2000 (z <= 0.98): Euler's transformation
 *     ₂F₁(R, B; c; z) = (1-z)^(c-R-B) ₂F₁(c-R, a-1; c; z), which makes the parameters small
 *     when x is large and keeps the division by a-1 exact near a = 1:
 *       M = c [(1 - (1-z)^(a-1))/(a-1) - (1-z)^(a-1) Σ_{k>=1} (c-R)_k (a)_(k-1)/((c)_k k!) z^k].
 *     The series alternates when c-R < 0 (large R) and the bracket is a difference, so the
 *     branch keeps a rigorous tail bound and a running bound on the rounding error, and is
 *     taken only when that bound is at most 1e-12 of M (the ordinary region: the CDNOW
 *     fits, and every x >= 1 at moderate r).
 *  2. Otherwise, when the negative binomial below needs at most about 4000 terms
 *     (R u + 10 sqrt(R u (1+u)) + 40 (1+u) <= 4000): the sum over purchase opportunities
 *       M = Σ_{j>=1} π_j h_j,  π_j = (1-z)^R (R)_j z^j / j!,  h_j = Σ_{k<j} (B)_k/(a+B)_k,
 *     (π_j: probability of j events of the Gamma-mixed Poisson process in t; h_j: expected
 *     purchases among j opportunities when each survives with E[(1-p)^k]). Every term is
 *     positive, so there is no cancellation for any a, B, R (large r, a+b < 1, a -> 0);
 *     rigorous tail bound; the sum is divided by Σ π_j computed alike, so (1-z)^R may
 *     underflow; relative error below 24 n 2^-53 for n terms (1.1e-11 at the limit).
 *  3. Otherwise (z near 1, or many expected purchases with a wide spread): the integral
 *     itself, N/D with N = ∫ p^(a-1) (1-p)^(B-1) f(p) dp, f(p) = (1 - (1+pu)^-R)/p, and
 *     D = B(a, B), by power series on [0, P] and [1-Q, 1] (a -> 0 and B -> 0 are handled
 *     there exactly) and adaptive Gauss-Kronrod in the logit of p between; the estimated
 *     relative error is at most 1e-14 of N and of D (at most 256 panels).
 * Accuracy: the bounds above (1e-12, 1.1e-11, estimated 1e-14). The test data
 * tests/data/bg_expected_reference.csv (mpmath, 60 digits, from
 * tests/data/make_bg_reference.py; 4212 rows with a down to 1e-4, a+B <= 1, a = 1, R and B
 * up to 2e4, u = t/(α+T) from 5e-5 to 4000) is matched to 1e-10 relative, the largest
 * error seen being 1e-13; tests/unit/test_special.c checks the branches against each other
 * for u up to 1e7.
 *
 * Cost: branch 1 tens of terms in the ordinary region; branch 2 at most 4000 terms; branch
 * 3 a few hundred integrand evaluations. No allocation (fixed arrays on the stack).
 * @return M, 0 when u = 0, NaN when an argument is out of range or not finite, or when
 *         R u > 1e300 (expected purchases beyond any meaning). */
double sgs_bg_mean_purchases(double R, double a, double B, double u);

#endif /* SGS_SPECIAL_H */
