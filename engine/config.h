/*
 * engine/config.h — the run configuration: one table of keys, each with its type,
 * default, allowed values and documentation. The same table parses the JSON file, applies
 * command-line overrides, rejects unknown keys, serializes the effective configuration
 * (written into every result) and prints the documentation (`segscore config --defaults`).
 *
 * A key that a kernel reads is defined once: its field is in the options that kernel takes,
 * held here as they are (sgs_model_fit_options_t, sgs_clv_options_t, sgs_kmeans_options_t,
 * and the rule tables of engine/config_actions.h), its default is the kernel's default
 * function or constant unless the run deliberately chooses another (which the key table
 * says), and a run hands the options on instead of copying them field by field.
 */
#ifndef SGS_CONFIG_H
#define SGS_CONFIG_H

#include "engine/config_actions.h"
#include "kernels/bgnbd.h"
#include "kernels/clv.h"
#include "kernels/core.h"
#include "kernels/kmeans.h"

#include <stdio.h>

#define SGS_CONFIG_STRING_MAX 512

typedef struct sgs_config {
    /* time */
    char time_unit[16]; /* "day" or "week": unit of every reported duration */
    char as_of[16];     /* "" (last transaction's day) or YYYY-MM-DD, UTC, inclusive */
    int threads;        /* OpenMP threads; 0 = every available core */
    /* rfm: the range and default of bins are kernels/rfm.h's */
    int rfm_bins;          /* scores 1..rfm_bins, SGS_RFM_MIN_BINS..SGS_RFM_MAX_BINS */
    char rfm_monetary[16]; /* "total" (net spend) or "mean" (mean spend per purchase day) */
    /* value models */
    char model[16];                    /* "auto", "bgnbd", "paretonbd", "mbgnbd" or "none" */
    int backtest;                      /* backtest inside the run (engine/run_backtest.c) */
    double backtest_holdout;           /* holdout length in time_unit; 0 = automatic */
    int backtest_sample;               /* customers the backtest scores at most; 0 = all */
    double horizon;                    /* prediction horizon, in time_unit; 0 = one year */
    sgs_model_fit_options_t value_fit; /* every model fit's options as the kernels take them
                                    (kernels/bgnbd.h): value.penalizer (penalizer),
                                    value.max_iter (optim.max_iter), value.fit_time_limit
                                    (optim.time_limit_s, seconds; 0 = none) */
    sgs_clv_options_t value_clv;       /* CLV's options (kernels/clv.h): value.discount_rate_annual
                                          (annual_discount, >= 0), value.margin (0..1); the run sets
                                          horizon and units_per_month from horizon and time_unit */
    int allow_unconverged;             /* publish results of a non-converged fit, flagged */
    double gg_correlation_warn;        /* warn when |corr(frequency, monetary)| exceeds this;
                                          default SGS_GG_CORRELATION_WARN (kernels/gammagamma.h) */
    /* segments */
    int segments_k; /* k-means k; 0 = choose from segments_k_min..segments_k_max */
    int segments_k_min;
    int segments_k_max;
    sgs_kmeans_options_t segments_kmeans; /* the final fit's options (kernels/kmeans.h):
                                       segments.n_init (n_init), segments.max_iter (max_iter);
                                       the run sets k, algorithm, init and seed */
    int segments_enabled;                 /* run the segment step */
    int actions_enabled;         /* run the actions step: stages, influence, opportunities, audit */
    char segments_features[256]; /* comma-separated feature names (SGS_SEGMENT_FEATURES) */
    int segments_pca_components; /* 0 = no PCA */
    int segments_choice_sample;  /* customers used to choose k (0 = all) */
    int segments_silhouette_sample; /* rows of the silhouette sample */
    char segments_scaling[16];      /* "robust" (winsorized, median, central range) or
                                       "standard" (mean and standard deviation) */
    double segments_min_spread;     /* drop a feature whose central 98% range is below this */
    double segments_min_share;      /* merge a segment with fewer customers than this share */
    uint64_t seed;                  /* seed of every random choice */
    /* stages, influence, opportunities (engine/config_actions.h) */
    sgs_actions_config_t actions;
    /* outputs, "" = next to the results file with the default name */
    char summary_json[SGS_CONFIG_STRING_MAX];
    char customers_csv[SGS_CONFIG_STRING_MAX];
    char report[SGS_CONFIG_STRING_MAX];
    char report_html[SGS_CONFIG_STRING_MAX];     /* "none": not written */
    char compare_summary[SGS_CONFIG_STRING_MAX]; /* an earlier run's summary.json; "" none */
    char opportunities_csv[SGS_CONFIG_STRING_MAX];
    int compression; /* deflate level 0..9 of results datasets */
    int direct_io;   /* large outputs past the page cache where possible (io/direct_file.h) */
} sgs_config_t;

/* Features the segment step knows, in the order of the default list. */
#define SGS_SEGMENT_FEATURES "recency,frequency,monetary,tenure,clv,p_buy"

/* Fill every field with its documented default. */
void sgs_config_defaults(sgs_config_t *cfg);

/* Apply the JSON file at `path` over *cfg. Nested objects mirror key paths
 * ({"rfm": {"bins": 4}}); dotted keys are not used in files.
 * @return 0; SGS_ENOINPUT when the file is missing; SGS_EIO when it cannot be read;
 * SGS_ECONFIG for invalid JSON (with line), a NUL byte in the file or the escape \u0000 in a
 * string (with byte offset and line), a key given twice in one object or a config key set
 * twice (its full path), an unknown key (its full path, and the closest known key), a wrong
 * type or a value out of range; SGS_ENOMEM. */
int sgs_config_load_file(sgs_config_t *cfg, const char *path, sgs_error_t *err);

/* Apply one override given by dotted key path ("rfm.bins", "time_unit") and textual value.
 * @return 0 or SGS_ECONFIG. */
int sgs_config_set(sgs_config_t *cfg, const char *key, const char *value, sgs_error_t *err);

/* Check cross-field constraints (k_min <= k_max, ...). @return 0 or SGS_ECONFIG. */
int sgs_config_validate(const sgs_config_t *cfg, sgs_error_t *err);

/* The stage, influence and opportunity keys checked together by their kernels
 * (engine/run_actions_config.c); called by sgs_config_validate. @return 0 or SGS_ECONFIG. */
int sgs_config_validate_actions(const sgs_config_t *cfg, sgs_error_t *err);

/* The effective configuration as compact JSON, malloc'd; NULL on OOM. Every key, except
 * that `threads` is left out when include_threads is 0: it changes how a run executes, never
 * its results, so the results file does not record it (summary.json does). */
char *sgs_config_to_json(const sgs_config_t *cfg, int include_threads);

/* Print the key table (key, type, default, meaning) as Markdown rows. */
void sgs_config_print_doc(FILE *out);

/* Days per configured time unit (1 or 7). */
double sgs_config_days_per_unit(const sgs_config_t *cfg);

#endif
