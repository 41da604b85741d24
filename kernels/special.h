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

/* ---- The expectation factor of the BG/NBD family --------------------------------------
 *
 * Q(d, e, c, z) = (1 - (1-z)^e ₂F₁(d, e; c; z)) / e, for c > 0, 0 <= z < 1, finite d and e,
 * with its limit -ln(1-z) - Σ_{k>=1} (d)_k (1)_(k-1) / ((c)_k k!) z^k at e = 0.
 *
 * The conditional expectation of the BG/NBD (Fader, Hardie & Lee 2005, eq. 10) is
 * (a+b+x-1) Q(a+b-1-r, a-1, a+b+x-1, t/(alpha+T+t)) P(alive): it is their
 * (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z)] after
 * Euler's transformation ₂F₁(A,B;C;z) = (1-z)^(C-A-B) ₂F₁(C-A, C-B; C; z), which turns the
 * large parameters (they grow with x) into the small ones and keeps the division by
 * (a - 1) exact near a = 1 (2F1(d, e; c; z) = 1 + e H with H summed directly).
 * MBG/NBD uses (a+b+x) Q(a+b-r, a-1, a+b+x, z) the same way.
 *
 * Summation stops when a term is below 1e-17 of the sum (at most 100000 terms).
 * @return Q, or NaN when arguments are out of range (callers check their inputs first).
 */
double sgs_hyp2f1_euler_q(double d, double e, double c, double z);

#endif /* SGS_SPECIAL_H */
