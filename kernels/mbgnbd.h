/*
 * kernels/mbgnbd.h — the MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical
 * validation and comparison of models for customer base analysis", International Journal
 * of Research in Marketing 24(3), 201-209; with the erratum of Wagner & Hoppe 2008).
 *
 * The BG/NBD (kernels/bgnbd.h) in which a customer may also drop out right after the first
 * purchase (at time 0), so that customers without repeat purchase are not certainly alive.
 * Parameters (r, alpha, a, b), the same domains and units as the BG/NBD. With m = 1 in the
 * formulas of bgnbd.h (as in lifetimes' ModifiedBetaGeoFitter):
 *   ln L = A1 + lnΓ(a+b) + lnΓ(b+x+1) - lnΓ(b) - lnΓ(a+b+x+1) + ln(e^A3 + e^A4),
 *          A4 = ln a - ln(b+x) - (r+x) ln(α+t_x)   (for every x, also 0)
 *   P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))
 *   E[Y(t)|...] = (a+b+x)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)] P(alive)
 *              = M(r+x, a, b+x+1, t/(α+T)) P(alive),   z = t/(α+T+t)
 *     (sgs_bg_mean_purchases, special.h: the alive customer has survived x+1 chances to
 *     drop out, p | alive ~ Beta(a, b+x+1); same accuracy and range as the BG/NBD)
 *   P(no purchase in (T, T+t]) = 1 - P(alive) (1 - ((α+T)/(α+T+t))^(r+x)) (as for BG/NBD:
 *   an alive customer can only drop out right after a purchase).
 */
#ifndef SGS_MBGNBD_H
#define SGS_MBGNBD_H

#include "kernels/bgnbd.h"

double sgs_mbgnbd_loglik_one(const double *params, double x, double t_x, double T);
/* As sgs_bgnbd_loglik. */
int sgs_mbgnbd_loglik(const double *params, const sgs_histories_t *h, double *ll, double *grad_log,
                      const sgs_exec_t *exec, sgs_error_t *err);
/* Serial reference twin of sgs_mbgnbd_loglik (the value only): Σ_h count_h ln L_h with
 * sgs_mbgnbd_loglik_one, in history order. Not the same bits (the kernel shares terms per
 * distinct value and sums per block): tests compare to a relative 1e-12. @return 0 or
 * SGS_EINVAL (params not finite and > 0). */
int sgs_mbgnbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                          sgs_error_t *err);
/* As sgs_bgnbd_fit (same default starts and errors). */
int sgs_mbgnbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                   const sgs_exec_t *exec, sgs_error_t *err);
double sgs_mbgnbd_p_alive(const double *params, double x, double t_x, double T);
double sgs_mbgnbd_expected(const double *params, double t, double x, double t_x, double T);
/* E[X(t)] of a new customer: b/(a-1) [1 - (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]. */
double sgs_mbgnbd_expected_new(const double *params, double t);
double sgs_mbgnbd_prob_no_purchase(const double *params, double t, double x, double t_x, double T);
double sgs_mbgnbd_expected_if_alive(const double *params, double t, double x, double T);
double sgs_mbgnbd_prob_no_purchase_if_alive(const double *params, double t, double x, double T);

#endif /* SGS_MBGNBD_H */
