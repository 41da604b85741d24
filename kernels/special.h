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
 * ln ₂F₁(a, b; a + 1; z) and its partial derivatives with respect to a, b and z, for
 * a > 0, any finite b, 0 <= z < 1. This is the function of the Pareto/NBD likelihood
 * (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions",
 * eq. 22-23), where the branch on alpha >= beta keeps z in [0, 1).
 *
 * Method, chosen so that no intermediate overflows and no sum cancels:
 *  1. Euler's transformation (Abramowitz & Stegun 15.3.3)
 *        ₂F₁(a, b; a+1; z) = (1-z)^(1-b) ₂F₁(1, a+1-b; a+1; z),
 *     whose series Σ_k (a+1-b)_k / (a+1)_k z^k has positive terms when a+1-b > 0, each
 *     term at most z times the one before: it is summed (with running sums that give the
 *     derivatives term by term) while it converges within 500 terms.
 *  2. Otherwise (z close to 1 with small b, or a+1-b <= 0): Euler's integral with the
 *     substitution v = u^a,
 *        ₂F₁(a, b; a+1; z) = ∫_0^1 (1 - z v^(1/a))^(-b) dv,
 *     scaled by its largest value (1-z)^(-b) when b > 0 and integrated by adaptive
 *     Gauss-Kronrod (7-15 points, bisection to a relative tolerance of 1e-14); the
 *     derivatives are integrals of the derivatives of the integrand over the same nodes.
 *
 * Writes ln F to *log_f and, when d_log_f is not NULL, ∂lnF/∂a, ∂lnF/∂b, ∂lnF/∂z to
 * d_log_f[0..2].
 * @return 0, or SGS_EINVAL when an argument is out of range or not finite (outputs untouched).
 */
int sgs_hyp2f1_ap1(double a, double b, double z, double *log_f, double *d_log_f);

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

/* One branch of sgs_bg_mean_purchases (1 Euler series, 2 opportunity sum, 3 quadrature),
 * for tests that check each against the reference: 0 and *out, or -1 when that branch
 * declines (its accuracy bound or term limit not met). Arguments as above, not checked. */
int sgs__bg_mean_branch(int branch, double R, double a, double B, double u, double *out);

#endif /* SGS_SPECIAL_H */
