/*
 * kernels/bgnbd_internal.h — what kernels/bgnbd.c shares with kernels/mbgnbd.c and
 * kernels/paretonbd.c. Internal to kernels/ (sgs__ prefix): not installed, not part of the
 * library's contract (docs/building.md "The library and its public headers"); the public
 * contract is kernels/bgnbd.h and kernels/mbgnbd.h.
 */
#ifndef SGS_BGNBD_INTERNAL_H
#define SGS_BGNBD_INTERNAL_H

#include "kernels/bgnbd.h"

/* The BG/NBD and MBG/NBD differ by m = 1 in a handful of places (Batislam et al. 2007):
 * the MBG/NBD also lets the customer drop out right after the first purchase. */
double sgs__bg_loglik_one(int m, const double *params, double x, double t_x, double T);
int sgs__bg_loglik(int m, const double *params, const sgs_histories_t *h, double *ll,
                   double *grad_log, const sgs_exec_t *exec, sgs_error_t *err);
int sgs__bg_fit(int m, const sgs_histories_t *h, const sgs_model_fit_options_t *options,
                sgs_fit_t *fit, const sgs_exec_t *exec, sgs_error_t *err);
double sgs__bg_p_alive(int m, const double *params, double x, double t_x, double T);
double sgs__bg_expected(int m, const double *params, double t, double x, double t_x, double T);
double sgs__bg_expected_if_alive(int m, const double *params, double t, double x, double T);
double sgs__bg_prob_no_purchase(int m, const double *params, double t, double x, double t_x,
                                double T);

/* Mean of x and T over histories used for default starts: s = Σ count T / Σ count x
 * (1 when there is no repeat purchase). */
double sgs__histories_time_per_purchase(const sgs_histories_t *h);

#endif /* SGS_BGNBD_INTERNAL_H */
