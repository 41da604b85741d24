/*
 * engine/run_state.h — everything one run computes, shared by its steps (engine/run.c)
 * and its output writers (engine/write_*.c). Internal to engine/.
 */
#ifndef SGS_RUN_STATE_H
#define SGS_RUN_STATE_H

#include "engine/run.h"
#include "engine/run_backtest.h"
#include "io/h5_columns.h"
#include "io/h5_input.h"
#include "kernels/clv.h"
#include "kernels/gammagamma.h"
#include "kernels/group.h"
#include "kernels/kchoice.h"
#include "kernels/rfm.h"
#include "kernels/segment_merge.h"
#include "kernels/summary.h"

#define SGS_RUN_MAX_WARNINGS 32
#define SGS_SEGMENTS_MAX_K 256

struct sgs_run_actions; /* engine/run_actions.h */
struct sgs_publish;     /* io/publish.h */

/* A warning of the run: a stable code a program can test (README "Warnings" lists them) and a
 * message for a person. */
typedef struct sgs_run_warning {
    char code[40];
    char message[1024];
} sgs_run_warning_t;

/* How one feature of segments.features fared in the segment step (README "Segments in the
 * run"): clustered, or dropped and why, with the numbers the decision was made on. */
typedef struct sgs_segment_feature_check {
    char name[16];
    const char *units;   /* units its spread is measured in: "log1p", "signed log1p",
                            "probability" */
    const char *dropped; /* NULL when clustered; else why: "value step off", "not identified by the
                            fit" or "negligible spread" */
    double q01, median, q99; /* original units: the 11th smallest value of 1,000 (1% set aside
                                at each end), the median, the 11th largest; NaN when the
                                feature could not be computed */
    double spread;           /* (q99 - q01) in `units`: the central 98% range */
    double center, scale;    /* clustered value = (working value - center) / scale */
    size_t n_clipped;        /* robust scaling: customers pulled in to q01 or q99 */
} sgs_segment_feature_check_t;

typedef struct sgs_run_state {
    const sgs_run_request_t *req;
    sgs_exec_t exec;
    double days_per_unit; /* 1 (day) or 7 (week): reported durations are days / this */

    /* read */
    sgs_read_stats_t tx_stats;
    char input_identity[1024];
    int32_t as_of_day;   /* UTC day number; rows after it were excluded */
    char as_of_text[16]; /* YYYY-MM-DD */

    /* group */
    sgs_grouped_t grouped; /* every customer with a row (refund-only ones included) */
    int sorted_input_skipped;

    /* summarize: customers with at least one purchase, ascending id */
    size_t n_customers;
    int64_t *customer_id; /* owned; n_customers */
    sgs_summary_t summary;
    size_t n_no_purchase;     /* customers without a purchase occasion, left out */
    size_t n_cancelled_days;  /* purchase days fully cancelled the same day (every customer) */
    size_t n_nonpositive_net; /* customers kept whose net spend is <= 0: spend and CLV 0 */
    size_t n_purchase_rows, n_refund_rows, n_zero_amount_rows;
    double revenue_total;  /* sum of total_spend over every customer, left-out ones included */
    double revenue_buyers; /* the same over the customers kept: the base of revenue shares */

    /* rfm */
    uint8_t *r_score, *f_score, *m_score, *rfm_segment, *rfm_total;
    uint16_t *rfm_cell;
    size_t segment_customers[SGS_RFM_SEGMENT_COUNT];
    double segment_revenue[SGS_RFM_SEGMENT_COUNT];

    /* value (when value.model is not "none") */
    int value_ran;
    sgs_purchase_model_t model;
    sgs_fit_t model_fit; /* repeat purchases; converged may be 0 only with allow_unconverged */
    sgs_fit_t spend_fit; /* Gamma-Gamma */
    sgs_gg_summary_t spend_summary;
    size_t n_histories; /* distinct (x, t_x, T) */
    double horizon;     /* in the time unit */
    double *p_alive, *expected_purchases, *prob_no_purchase, *expected_spend, *clv;
    double *p_buy;        /* calibrated P(buy within the horizon) (engine/run_backtest.h) */
    int p_buy_calibrated; /* 0: the model's own probability (no calibration available) */
    sgs_backtest_t backtest;
    double clv_total, expected_purchases_total;
    int p_alive_informative; /* 0 when the fit does not identify dropout: stages and
                                opportunities then treat P(alive) as unknown */

    /* segments (k-means on standardized features) */
    int segments_ran;
    size_t n_features;         /* d */
    char feature_names[8][16]; /* the features, in matrix column order */
    size_t n_dims;             /* columns clustered: d, or the PCA components */
    size_t k;                  /* segments */
    char k_chosen_by[32];      /* "config", or "silhouette" / "calinski_harabasz" */
    sgs_kchoice_row_t k_table[SGS_SEGMENTS_MAX_K]; /* when k was chosen */
    size_t n_k_table;
    sgs_kmeans_result_t kmeans;
    double explained_variance_ratio[8]; /* PCA, n_dims entries */
    int32_t *segment;                   /* n_customers: 0..k-1 */
    double *segment_distance;           /* n_customers: distance to the centre (clustered space) */
    double *centroids;                  /* k x n_dims, clustered space */
    double *centroids_original;         /* k x d: centres back in original units */
    double *profile_mean, *profile_median;             /* k x d, original units */
    size_t *profile_size;                              /* k */
    double *profile_revenue_share, *profile_clv_share; /* k (clv: NaN without value step) */
    size_t *profile_rfm_mix;                           /* k x SGS_RFM_SEGMENT_COUNT */
    char (*profile_label)[96];                         /* k readable labels */
    sgs_segment_feature_check_t feature_check[8]; /* every feature asked for, in config order */
    size_t n_feature_check;
    size_t k_fitted;                                /* k of the k-means fit, before merging */
    sgs_segment_merge_t merges[SGS_SEGMENTS_MAX_K]; /* segments under segments.min_share */
    size_t n_merges;
    double segments_inertia; /* sum of squared distances to the final (merged) centres */
    /* stages, influence, opportunities (engine/run_actions.h); NULL before that step */
    struct sgs_run_actions *actions;

    sgs_run_warning_t warnings[SGS_RUN_MAX_WARNINGS];
    size_t n_warnings;

    /* the output set, locked from before the first step to the end (engine/run_publish.c) */
    struct sgs_publish *publish;
} sgs_run_state_t;

/* Fit options of the run (value.penalizer, value.max_iter, value.fit_time_limit) with the
 * progress hook reporting to *watch, which must outlive the fit. */
sgs_model_fit_options_t sgs_run_fit_options(const sgs_run_state_t *st, const char *what,
                                            sgs_fit_watch_t *watch);

/* A fit's return code as the run takes it: SGS_ENOCONVERGE becomes an error naming the stop
 * reason and the parameters running off, or, with value.allow_unconverged, a warning and 0;
 * other codes pass through (engine/value_diagnostics.c). spend_model: 1 for Gamma-Gamma. */
int sgs_value_accept_fit(sgs_run_state_t *st, int rc, int spend_model, const sgs_fit_t *fit,
                         sgs_error_t *err);

/* Warn about parameters of the fitted models that the data do not identify, and set
 * st->p_alive_informative (engine/value_diagnostics.c). */
void sgs_value_check_identification(sgs_run_state_t *st);

/* The value step: fit the configured purchase model and Gamma-Gamma, score every customer
 * (engine/run_value.c). Skipped when value.model is "none". */
int sgs_run_value(sgs_run_state_t *st, sgs_error_t *err);

/* The segment step: features, optional PCA, k (given or chosen), k-means, profiles
 * (engine/run_segments.c). Skipped when segments.enabled is false. */
int sgs_run_segments(sgs_run_state_t *st, sgs_error_t *err);
/* Stages, influence and opportunities (engine/run_actions.c): reads /events and /customers
 * when present. Free with sgs_run_actions_free (NULL-safe). */
int sgs_run_actions(sgs_run_state_t *st, sgs_error_t *err);
void sgs_run_actions_free(sgs_run_state_t *st);

/* Add a warning with its code (printed, and kept for the summary and report); warnings past
 * SGS_RUN_MAX_WARNINGS are printed only (engine/run_warnings.c). */
void sgs_run_warn(sgs_run_state_t *st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Output writers: each writes one complete file at `path` (a temporary name chosen by the
 * caller) from the state. @return 0 or an SGS_E* code with err naming the file. */
int sgs_write_results_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_summary_json(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_customers_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_report(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_opportunities_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err);

/* The backtest's parts of the outputs (engine/write_backtest.c). */
int sgs_write_backtest_h5(hid_t file, const sgs_run_state_t *st, sgs_error_t *err);
struct cJSON *sgs_backtest_json(const sgs_run_state_t *st);
void sgs_report_backtest(const sgs_run_state_t *st, FILE *out);

/* The segment step's parts of the outputs (engine/write_segments.c). */
int sgs_write_segments_h5(hid_t file, const sgs_run_state_t *st, int deflate_level,
                          sgs_error_t *err);
struct cJSON *sgs_segments_json(const sgs_run_state_t *st);
void sgs_report_segments(const sgs_run_state_t *st, FILE *out);

/* Before any work: resolve every output path, check each against the input, the
 * configuration file and the other outputs (64 naming both; 64 or 73 for an unusable path),
 * take the output set's lock (75 naming the holder) and remove what a stopped run of the set
 * left (engine/run_publish.c, io/publish.h). */
int sgs_run_publish_open(sgs_run_state_t *st, sgs_error_t *err);

/* Publish every output together: each is written into a new generation and flushed, then
 * one rename makes the whole set visible. A failure or a signal before that rename leaves
 * the previous set as it was (docs/publishing.md). */
int sgs_run_publish(sgs_run_state_t *st, sgs_error_t *err);

/* Remove an unpublished generation and release the lock. NULL-safe on st->publish. */
void sgs_run_publish_close(sgs_run_state_t *st);

#endif
