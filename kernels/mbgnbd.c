/*
 * kernels/mbgnbd.c — MBG/NBD: the BG/NBD code of kernels/bgnbd.c with m = 1.
 */
#include "kernels/mbgnbd.h"

#include "kernels/bgnbd_internal.h"

#include <math.h>

double sgs_mbgnbd_loglik_one(const double *params, double x, double t_x, double T)
{
    return sgs__bg_loglik_one(1, params, x, t_x, T);
}

int sgs_mbgnbd_loglik(const double *params, const sgs_histories_t *h, double *ll, double *grad_log,
                      const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__bg_loglik(1, params, h, ll, grad_log, exec, err);
}

int sgs_mbgnbd_loglik_ref(const double *params, const sgs_histories_t *h, double *ll,
                          sgs_error_t *err)
{
    for (int k = 0; k < 4; k++)
        if (!(isfinite(params[k]) && params[k] > 0))
            return sgs_error_set(err, SGS_EINVAL, "MBG/NBD: parameters must be finite and > 0");
    double sum = 0.0;
    for (size_t i = 0; i < h->n_unique; i++)
        sum += h->count[i] * sgs_mbgnbd_loglik_one(params, h->x[i], h->t_x[i], h->T[i]);
    *ll = sum;
    return SGS_OK;
}

int sgs_mbgnbd_fit(const sgs_histories_t *h, const sgs_model_fit_options_t *options, sgs_fit_t *fit,
                   const sgs_exec_t *exec, sgs_error_t *err)
{
    return sgs__bg_fit(1, h, options, fit, exec, err);
}

double sgs_mbgnbd_p_alive(const double *params, double x, double t_x, double T)
{
    return sgs__bg_p_alive(1, params, x, t_x, T);
}

double sgs_mbgnbd_expected(const double *params, double t, double x, double t_x, double T)
{
    return sgs__bg_expected(1, params, t, x, t_x, T);
}

double sgs_mbgnbd_expected_new(const double *params, double t)
{
    return sgs__bg_expected(1, params, t, 0.0, 0.0, 0.0);
}

double sgs_mbgnbd_prob_no_purchase(const double *params, double t, double x, double t_x, double T)
{
    return sgs__bg_prob_no_purchase(1, params, t, x, t_x, T);
}

double sgs_mbgnbd_expected_if_alive(const double *params, double t, double x, double T)
{
    return sgs__bg_expected_if_alive(1, params, t, x, T);
}

double sgs_mbgnbd_prob_no_purchase_if_alive(const double *params, double t, double x, double T)
{
    return sgs_bgnbd_prob_no_purchase_if_alive(params, t, x, T);
}
