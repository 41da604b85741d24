/*
 * kernels/gammagamma.h — the Gamma-Gamma model of spend per transaction (Fader, Hardie &
 * Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", Journal of
 * Marketing Research 42(4), 415-430, section 4 and appendix; hereafter FHL-RFM).
 *
 * The values of a customer's transactions are Gamma(p, ν) around the customer's mean p/ν,
 * with ν ~ Gamma(q, γ) across customers. A customer with x >= 1 repeat transactions of
 * mean value m contributes (FHL-RFM eq. 3, with the Jacobian of the mean):
 *
 *   ln f(m | p, q, γ, x) = lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln m + px ln x
 *                          - (px+q) ln(γ + m x)
 *
 * Parameters (p, q, gamma), all > 0, in that order in every `params` array; gamma is in
 * the currency of the spend. Only customers with x > 0 and m > 0 (finite) enter the fit;
 * the others are left out and counted.
 *
 * Conditional expected spend per transaction (FHL-RFM eq. 5):
 *   E[M | x, m] = (q-1)/(px+q-1) · pγ/(q-1) + px/(px+q-1) · m,
 * a weighted mean of the population mean pγ/(q-1) and the customer's own mean; customers
 * with no repeat transaction (or left out of the fit) get the population mean. Both need
 * q > 1 (otherwise the mean spend is infinite).
 *
 * The model assumes spend independent of the number of transactions: the fit reports the
 * Pearson correlation of x and m over the customers it used (FHL-RFM report 0.11 on CDNOW)
 * and flags |correlation| > SGS_GG_CORRELATION_WARN (beyond it, as the run warns).
 */
#ifndef SGS_GAMMAGAMMA_H
#define SGS_GAMMAGAMMA_H

#include "kernels/bgnbd.h" /* sgs_model_fit_options_t */
#include "kernels/core.h"
#include "kernels/optimizer.h"

#define SGS_GG_N_PARAMS 3 /* p, q, gamma */
#define SGS_GG_CORRELATION_WARN 0.3

/* What the spend fit used and left out. */
typedef struct sgs_gg_summary {
    size_t n_used;           /* x > 0 and finite m > 0: in the fit */
    size_t n_no_repeat;      /* x == 0: not in the fit (they get the population mean) */
    size_t n_nonpositive;    /* x > 0 but m <= 0 or not finite: left out */
    double correlation;      /* Pearson correlation of x and m over the used customers; 0 when
                                fewer than 2 or a variance is 0 */
    int correlation_warning; /* |correlation| > SGS_GG_CORRELATION_WARN */
} sgs_gg_summary_t;

/* ln f of one customer (x >= 1, m > 0). */
double sgs_gg_loglik_one(const double *params, double x, double m);

/* Σ ln f over the usable customers of x[n], m[n] (see above) and the gradient with respect
 * to (ln p, ln q, ln γ) in grad_log[3] when not NULL. Parallel over fixed blocks of
 * customers, bitwise the same for any thread count.
 * @return 0, SGS_EINVAL (params), SGS_ENOMEM. */
int sgs_gg_loglik(const double *params, const double *x, const double *m, size_t n, double *ll,
                  double *grad_log, const sgs_exec_t *exec, sgs_error_t *err);

/* Serial reference twin of sgs_gg_loglik (the value only): Σ sgs_gg_loglik_one over the usable
 * customers in row order; equal to a relative 1e-12 (not the same bits: the kernel shares
 * terms per distinct x and sums per block). @return as the kernel but for SGS_ENOMEM. */
int sgs_gg_loglik_ref(const double *params, const double *x, const double *m, size_t n, double *ll,
                      sgs_error_t *err);

/* Maximum likelihood fit over customers with x[i] repeat transactions of mean value m[i]
 * (x >= 0 integer-valued; m anything, only finite m > 0 with x > 0 are used). Default
 * starts, with s the mean of the used m: (1, 2, s), (5, 3, 0.4 s), (0.5, 1.5, s).
 * *summary (may be NULL) is written whenever the data could be read.
 * @return 0 (converged); SGS_ENOCONVERGE (fit flagged, see optimizer.h); SGS_EDATA when no
 *         customer is usable, or x is negative, not an integer or not finite; SGS_EINVAL,
 *         SGS_ENOMEM. */
int sgs_gg_fit(const double *x, const double *m, size_t n, const sgs_model_fit_options_t *options,
               sgs_fit_t *fit, sgs_gg_summary_t *summary, const sgs_exec_t *exec, sgs_error_t *err);

/* Population mean spend pγ/(q-1); +inf when q <= 1. */
double sgs_gg_population_mean(const double *params);

/* E[M | x, m] (FHL-RFM eq. 5) for x > 0 and finite m > 0; the population mean otherwise.
 * Requires q > 1 (else +inf). */
double sgs_gg_expected_spend(const double *params, double x, double m);

#endif /* SGS_GAMMAGAMMA_H */
