/*
 * engine/run_value.c — what customers are worth: the configured repeat-purchase model
 * (BG/NBD by default) and the Gamma-Gamma spend model, fitted over the whole base by
 * maximum likelihood, then P(alive), expected purchases, P(no purchase), expected spend
 * and CLV for every customer (kernels/clv.h has the formulas).
 *
 * A fit that does not converge stops the run (exit 65) and publishes nothing, unless
 * value.allow_unconverged is set: then the results are published flagged converged = 0.
 */
#include "engine/run_state.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sgs_run_warn(sgs_run_state_t *st, const char *fmt, ...)
{
    if (st->n_warnings == SGS_RUN_MAX_WARNINGS)
        return;
    char *slot = st->warnings[st->n_warnings++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(slot, sizeof st->warnings[0], fmt, ap);
    va_end(ap);
    sgs_progress_note(st->req->progress, "warning: %s", slot);
}

/* A non-converged fit either fails the run or becomes a warning, as configured. */
static int accept_fit(sgs_run_state_t *st, int rc, const char *model, const sgs_fit_t *fit,
                      sgs_error_t *err)
{
    if (rc != SGS_ENOCONVERGE)
        return rc;
    if (!st->req->config->allow_unconverged) {
        return sgs_error_set(err, SGS_ENOCONVERGE,
                             "%s fit did not converge (%s after %d iterations, gradient %.3g); "
                             "nothing was published. Check the input, raise value.max_iter, or "
                             "set value.allow_unconverged to publish flagged results",
                             model, sgs_optim_status_name(fit->status), fit->iterations,
                             fit->grad_norm);
    }
    sgs_run_warn(st,
                 "%s fit did not converge (%s after %d iterations); results are flagged "
                 "converged = false",
                 model, sgs_optim_status_name(fit->status), fit->iterations);
    return SGS_OK;
}

static int alloc_outputs(sgs_run_state_t *st)
{
    size_t n = st->n_customers;
    st->p_alive = sgs_alloc_array(n, sizeof(double));
    st->expected_purchases = sgs_alloc_array(n, sizeof(double));
    st->prob_no_purchase = sgs_alloc_array(n, sizeof(double));
    st->expected_spend = sgs_alloc_array(n, sizeof(double));
    st->clv = sgs_alloc_array(n, sizeof(double));
    return st->p_alive && st->expected_purchases && st->prob_no_purchase && st->expected_spend &&
                   st->clv
               ? SGS_OK
               : SGS_ENOMEM;
}

int sgs_run_value(sgs_run_state_t *st, sgs_error_t *err)
{
    const sgs_config_t *cfg = st->req->config;
    if (strcmp(cfg->model, "none") == 0)
        return SGS_OK;
    sgs_progress_begin(st->req->progress, "value");
    size_t n = st->n_customers;
    const sgs_summary_t *s = &st->summary;
    double unit = st->days_per_unit;
    sgs_histories_t hist = {0};
    double *x = sgs_alloc_array(n, sizeof *x);
    double *t_x = sgs_alloc_array(n, sizeof *t_x);
    double *age = sgs_alloc_array(n, sizeof *age);
    int rc = SGS_OK;
    if (!x || !t_x || !age || alloc_outputs(st) != SGS_OK) {
        rc = sgs_error_set(err, SGS_ENOMEM, "value: no memory for %zu customers", n);
        goto cleanup;
    }
    for (size_t c = 0; c < n; c++) {
        x[c] = s->frequency[c];
        t_x[c] = s->recency_days[c] / unit;
        age[c] = s->age_days[c] / unit;
    }
    rc = sgs_purchase_model_parse(cfg->model, &st->model, err);
    if (rc == SGS_OK)
        rc = sgs_histories_build(&hist, x, t_x, age, NULL, n, &st->exec, err);
    if (rc != SGS_OK)
        goto cleanup;
    st->n_histories = hist.n_unique;

    sgs_model_fit_options_t fit_options = sgs_model_fit_default_options();
    fit_options.penalizer = cfg->penalizer;
    fit_options.optim.max_iter = cfg->max_iter;
    const char *model_name = sgs_purchase_model_name(st->model);
    rc = sgs_purchase_model_fit(st->model, &hist, &fit_options, &st->model_fit, &st->exec, err);
    rc = accept_fit(st, rc, model_name, &st->model_fit, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: %s", model_name);
        goto cleanup;
    }
    rc = sgs_gg_fit(x, s->monetary, n, &fit_options, &st->spend_fit, &st->spend_summary, &st->exec,
                    err);
    rc = accept_fit(st, rc, "Gamma-Gamma", &st->spend_fit, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: Gamma-Gamma spend model");
        goto cleanup;
    }
    if (fabs(st->spend_summary.correlation) > cfg->gg_correlation_warn)
        sgs_run_warn(st,
                     "frequency and repeat spend are correlated (r = %.2f): Gamma-Gamma "
                     "assumes they are independent, so expected spend may be biased",
                     st->spend_summary.correlation);

    st->horizon = cfg->horizon > 0 ? cfg->horizon : 365.0 / unit;
    sgs_clv_options_t clv_options = {st->horizon,
                                     unit == 1.0 ? SGS_CLV_DAYS_PER_MONTH : SGS_CLV_WEEKS_PER_MONTH,
                                     cfg->discount_rate_annual, cfg->margin};
    rc = sgs_clv_score_customers(st->model, st->model_fit.params, st->spend_fit.params, &hist, x,
                                 s->monetary, &clv_options, st->p_alive, st->expected_purchases,
                                 st->prob_no_purchase, st->expected_spend, st->clv, &st->exec, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "value: scoring");
        goto cleanup;
    }
    double clv_total = 0.0, purchases_total = 0.0; /* serial: fixed order */
    for (size_t c = 0; c < n; c++) {
        clv_total += st->clv[c];
        purchases_total += st->expected_purchases[c];
    }
    st->clv_total = clv_total;
    st->expected_purchases_total = purchases_total;
    st->value_ran = 1;
    sgs_progress_end(st->req->progress, "%s over %zu histories, log-likelihood %.1f%s", model_name,
                     hist.n_unique, st->model_fit.log_likelihood,
                     st->model_fit.converged && st->spend_fit.converged ? "" : " (NOT CONVERGED)");
cleanup:
    sgs_histories_free(&hist);
    sgs_free(x);
    sgs_free(t_x);
    sgs_free(age);
    return rc;
}
