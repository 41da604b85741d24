/*
 * engine/value_diagnostics.c — what the value step says about its fits: a fit that did not
 * converge (an error, or a warning with value.allow_unconverged), parameters running to 0 or
 * infinity named with what that means for the customers, and parameters the data do not
 * identify (kernels/fit_diagnostics.h), in words a marketer can act on (docs/value-models.md
 * "Lifetime value in the run").
 */
#include "engine/run_state.h"

#include "kernels/fit_diagnostics.h"

#include <math.h>
#include <stdio.h>

/* ---- Fits that run off ---------------------------------------------------------------- */

/* What it means when a parameter runs to 0 (up = 0) or to infinity (up = 1), per model. A fit
 * at such an edge says the data lack the variation the model describes. */
typedef struct drift_meaning {
    int spend_model; /* 1: Gamma-Gamma, 0: the purchase models */
    int pareto;      /* purchase models: 1 for Pareto/NBD only, 0 for the BG/NBD family */
    int param, up;
    const char *meaning;
} drift_meaning_t;

static const drift_meaning_t drift_meanings[] = {
    {1, 0, 0, 1,
     "customers' average spend varies as much among frequent buyers as among occasional "
     "ones, where the model expects it to settle as purchases add up (common when most "
     "customers buy very often): the model cannot tell spend per purchase from spend per "
     "customer"},
    {1, 0, 1, 1, "customers do not differ in their average spend"},
    {0, 0, 0, 1, "customers do not differ in how often they buy"},
    {0, 1, 0, 1, "customers do not differ in how often they buy"},
    {0, 0, 2, 0, "customers do not seem to stop buying"},
    {0, 0, 2, 1, "customers do not differ in their chance of stopping"}, /* with b: below */
    {0, 0, 3, 1, "customers hardly ever stop buying"},
    {0, 1, 2, 0, "customers do not seem to stop buying"},
    {0, 1, 3, 1, "customers do not seem to stop buying"},
    {0, 1, 2, 1, "customers do not differ in how long they stay"},
};

/* |ln p| beyond which a parameter of a fit that did not converge is running off. */
#define DRIFT_LOG_PARAM 12.0

/* "; p = 2.3e+17 runs to infinity: <meaning>" for each parameter running off among the n
 * given in which[] (all when which is NULL), or "". */
static void explain_drift(const sgs_run_state_t *st, int spend_model, const sgs_fit_t *fit,
                          const int *which, int n, char *text, size_t size)
{
    static const char *const gg_names[] = {"p", "q", "gamma"};
    const char *const *names =
        spend_model ? gg_names : sgs_purchase_model_param_names(st->value.model);
    int pareto = st->value.model == SGS_MODEL_PARETONBD;
    size_t used = 0;
    text[0] = '\0';
    for (int k = 0; k < (which ? n : fit->n_params); k++) {
        int j = which ? which[k] : k;
        double lp = log(fit->params[j]);
        if (!(fabs(lp) > DRIFT_LOG_PARAM))
            continue;
        int up = lp > 0;
        const char *meaning = NULL;
        for (size_t m = 0; m < sizeof drift_meanings / sizeof drift_meanings[0]; m++) {
            const drift_meaning_t *d = &drift_meanings[m];
            if (d->spend_model == spend_model && d->param == j && d->up == up &&
                (spend_model || d->pareto == pareto))
                meaning = d->meaning;
        }
        /* a alone to infinity pushes the chance of stopping, a/(a+b), to 1; with b it stays
         * put and only its spread between customers vanishes */
        if (!spend_model && !pareto && j == 2 && up && !(log(fit->params[3]) > DRIFT_LOG_PARAM))
            meaning = "nearly every customer stops after the next purchase";
        int w = snprintf(text + used, size - used, "; %s = %.3g runs to %s%s%s", names[j],
                         fit->params[j], up ? "infinity" : "0", meaning ? ": " : "",
                         meaning ? meaning : "");
        used += w > 0 && (size_t)w < size - used ? (size_t)w : 0;
    }
}

/* A non-converged fit either fails the run or becomes a warning, as configured. */
int sgs_value_accept_fit(sgs_run_state_t *st, int rc, int spend_model, const sgs_fit_t *fit,
                         sgs_error_t *err)
{
    if (rc != SGS_ENOCONVERGE)
        return rc;
    const char *model = spend_model ? "Gamma-Gamma" : sgs_purchase_model_name(st->value.model);
    char why[600];
    explain_drift(st, spend_model, fit, NULL, 0, why, sizeof why);
    if (!st->req->config->allow_unconverged) {
        return sgs_error_set(err, SGS_ENOCONVERGE,
                             "%s fit did not converge (%s after %d iterations, gradient %.3g%s); "
                             "nothing was published. Check the input, raise value.max_iter or "
                             "value.fit_time_limit, or set value.allow_unconverged to publish "
                             "flagged results",
                             model, sgs_optim_status_name(fit->status), fit->iterations,
                             fit->grad_norm, why);
    }
    sgs_run_warn(st, "fit_not_converged",
                 "%s fit did not converge (%s after %d iterations%s); results are flagged "
                 "converged = false",
                 model, sgs_optim_status_name(fit->status), fit->iterations, why);
    return SGS_OK;
}

/* ---- Identification ------------------------------------------------------------------ */

/* "a = 0.0034 (SE 0.0103, standard error larger than the estimate)" for each flagged
 * parameter among the n given; returns how many were flagged. */
static int describe_flagged(const sgs_fit_t *fit, const char *const *names, const int *which, int n,
                            char *text, size_t size)
{
    int flagged = 0;
    size_t used = 0;
    text[0] = '\0';
    for (int k = 0; k < n; k++) {
        int j = which[k];
        unsigned flags = sgs_fit_param_flags(fit, j);
        if (!flags)
            continue;
        int w = snprintf(text + used, size - used, "%s%s = %.4g (SE %.3g, %s)", flagged ? ", " : "",
                         names[j], fit->params[j], fit->std_err[j], sgs_fit_flag_text(flags));
        used += w > 0 && (size_t)w < size - used ? (size_t)w : 0;
        flagged++;
    }
    return flagged;
}

/* Whether the mean dropout is identified even when its two parameters are not: a/(a+b), the
 * mean chance of stopping after a purchase (BG/NBD family), or s/beta, the mean dropout rate
 * (Pareto/NBD), with its delta-method standard error from the fit's covariance no larger than
 * itself. a and b running to infinity together (everyone alike) leave it well determined. */
static int mean_dropout_identified(const sgs_run_state_t *st)
{
    const sgs_fit_t *f = &st->value.model_fit;
    if (!f->hessian_ok)
        return 0;
    double u = f->params[2], v = f->params[3], g, du, dv;
    if (st->value.model == SGS_MODEL_PARETONBD) {
        g = u / v, du = 1.0 / v, dv = -u / (v * v);
    } else {
        double t = (u + v) * (u + v);
        g = u / (u + v), du = v / t, dv = -u / t;
    }
    double var = du * du * f->cov[2][2] + dv * dv * f->cov[3][3] + 2 * du * dv * f->cov[2][3];
    return g > 0.0 && isfinite(var) && var >= 0.0 && sqrt(var) <= g;
}

/* Warn about parameters the data do not identify, in words a marketer can act on. */
void sgs_value_check_identification(sgs_run_state_t *st)
{
    static const int rate[] = {0, 1}, dropout[] = {2, 3}, spend[] = {0, 1, 2};
    static const char *const gg_names[] = {"p", "q", "gamma"};
    const char *const *names = sgs_purchase_model_param_names(st->value.model);
    const char *model = sgs_purchase_model_name(st->value.model);
    char text[300], why[600];
    st->value.p_alive_informative = 1;
    if (describe_flagged(&st->value.model_fit, names, dropout, 2, text, sizeof text) &&
        mean_dropout_identified(st)) {
        explain_drift(st, 0, &st->value.model_fit, dropout, 2, why, sizeof why);
        sgs_run_warn(st, "dropout_spread_not_identified",
                     "%s: %s%s. The data tell how likely customers are to stop on average, not "
                     "how much that differs between customers: P(alive) is used as fitted",
                     model, text, why);
    } else if (describe_flagged(&st->value.model_fit, names, dropout, 2, text, sizeof text)) {
        st->value.p_alive_informative = 0;
        explain_drift(st, 0, &st->value.model_fit, dropout, 2, why, sizeof why);
        sgs_run_warn(st, "dropout_not_identified",
                     "%s: %s%s. The data do not tell when customers stop buying: P(alive) is not "
                     "informative. %s; CLV assumes the fitted dropout",
                     model, text, why,
                     st->value.p_buy_calibrated
                         ? "p_buy rests on the backtest's calibration alone"
                         : "Stages and opportunities treat p_buy as unknown (stages follow each "
                           "customer's purchase cycle alone; values at stake use "
                           "actions.unknown_p_buy_risk)");
    }
    if (describe_flagged(&st->value.model_fit, names, rate, 2, text, sizeof text)) {
        explain_drift(st, 0, &st->value.model_fit, rate, 2, why, sizeof why);
        sgs_run_warn(st, "purchase_rate_not_identified",
                     "%s: %s%s. The data do not pin down how purchase rates vary between "
                     "customers: expected purchases and CLV are uncertain",
                     model, text, why);
    }
    if (describe_flagged(&st->value.spend_fit, gg_names, spend, 3, text, sizeof text)) {
        explain_drift(st, 1, &st->value.spend_fit, spend, 3, why, sizeof why);
        sgs_run_warn(st, "spend_not_identified",
                     "Gamma-Gamma: %s%s. The data do not pin down how spend varies between and "
                     "within customers: expected spend and CLV are uncertain",
                     text, why);
    }
}
