/*
 * engine/run_state.h — everything one run computes, shared by its steps (engine/run.c)
 * and its output writers (engine/write_*.c). Internal to engine/.
 */
#ifndef SGS_RUN_STATE_H
#define SGS_RUN_STATE_H

#include "engine/dist_input.h"
#include "engine/report_figures.h"
#include "engine/run.h"
#include "engine/run_rfm.h"
#include "engine/run_segments.h"
#include "engine/run_summary.h"
#include "engine/run_value.h"
#include "io/h5_columns.h"
#include "io/h5_input.h"
#include "io/previous_summary.h"
#include "kernels/group.h"

#define SGS_RUN_MAX_WARNINGS 32

struct sgs_run_actions; /* engine/run_actions.h */
struct sgs_publish;     /* io/publish.h */

/* A warning of the run: a stable code a program can test (docs/outputs.md, "Run summary": the
 * warnings) and a message for a person. */
typedef struct sgs_run_warning {
    char code[40];
    char message[1024];
} sgs_run_warning_t;

/* The read step's result (engine/run.c); owns nothing. The rows read are the run's
 * (engine/run.c), handed to the group step. */
typedef struct sgs_run_read {
    sgs_read_stats_t tx_stats;
    char input_identity[1024];
    int32_t as_of_day;   /* UTC day number; rows after it were excluded */
    char as_of_text[16]; /* YYYY-MM-DD */
} sgs_run_read_t;

/* The group step's result (engine/run.c). The events step (engine/run_events.c) takes the
 * purchase days out of the rows and releases every array of them: afterwards only the
 * counts n_rows and n_customers are left. */
typedef struct sgs_run_group {
    sgs_grouped_t rows; /* owned; every customer with a row (refund-only ones included); freed
                           before the write step, which does not read them */
    size_t n_rows_used; /* rows.n_rows, kept for summary.json after rows are freed */
    int sorted_input_skipped;
} sgs_run_group_t;

/* Free the grouped rows and leave *g empty. NULL-safe. */
void sgs_run_group_free(sgs_run_group_t *g);

/* What this process of a spread run held, counted as the steps go (its own customers and rows,
 * before they are summed over the processes): summary.json's "processes" (engine/dist_run.h
 * sgs_dist_run_processes). One process fills it too; only a spread run writes it. */
typedef struct sgs_run_held {
    size_t n_transaction_rows; /* /transactions rows of its customers used (the group step's) */
    int actions_ran;           /* the actions step's counts below were taken */
    size_t n_customers;        /* customers of its combined index: buyers, known, event-only */
    size_t n_customer_rows;    /* the input's /customers rows of its customers */
    size_t n_event_rows;       /* /events rows of its customers used */
} sgs_run_held_t;

/* One process of a spread run as summary.json's "processes" shows it: what it held, the bytes
 * it sent to the others and its peak memory, in all and per step (engine/dist_run.h
 * sgs_dist_run_processes). Plain data, no pointer: gathered as raw bytes. */
typedef struct sgs_run_process {
    int64_t rank;
    int64_t n_buyers;           /* customers with a purchase (its rows of results' /customers) */
    int64_t n_transaction_rows; /* sgs_run_held_t's */
    int64_t actions_ran;
    int64_t n_customers, n_customer_rows, n_event_rows; /* when actions_ran */
    int64_t bytes_sent; /* to the other processes, from the start to the gather (engine/dist.h) */
    double peak_rss_mb; /* its peak resident memory at the gather, MiB */
    int64_t n_steps;    /* steps[0..n_steps): the steps ended, then the current one so far */
    sgs_step_record_t steps[SGS_PROGRESS_MAX_STEPS + 1];
} sgs_run_process_t;

/* One run: its request and execution context, then one result per step, in the order the
 * steps run (engine/run.c). Each step fills its own member from the earlier ones' and
 * owns what it allocates there; sgs_run frees them all, each with its step's free. */
typedef struct sgs_run_state {
    const sgs_run_request_t *req;
    sgs_exec_t exec;
    /* the run's processes (req->dist, else one): in a spread run every per-customer column
       holds this process's customers, and every figure over customers is the whole base's
       (engine/dist_run.h) */
    sgs_dist_t dist;
    sgs_dist_owners_t owners; /* a spread run's ranges of customer id (engine/dist_input.h) */
    double days_per_unit;     /* 1 (day) or 7 (week): reported durations are days / this */

    sgs_run_read_t read;
    sgs_run_group_t group;
    sgs_run_held_t held;       /* this process's share, for a spread run's summary.json */
    sgs_run_summary_t summary; /* customers with at least one purchase, ascending id */
    sgs_run_rfm_t rfm;
    sgs_run_value_t value;       /* when value.model is not "none" (value.ran) */
    sgs_run_segments_t segments; /* when segments.enabled (segments.ran) */
    /* what the reports show of the customer columns, made when the customer outputs are
     * written (engine/report_figures.h) */
    sgs_report_figures_t figures;
    /* stages, influence, opportunities (engine/run_actions.h); NULL before that step */
    struct sgs_run_actions *actions;

    /* output.compare_summary: an earlier run's figures, read before any work (engine/run.c) */
    int has_previous;
    sgs_previous_summary_t previous;

    /* a spread run's processes, on process 0's view of the state that summary.json is written
     * from (engine/run_publish.c); NULL (and 0) in one process and on the run's own state */
    const sgs_run_process_t *processes;
    size_t n_processes;

    sgs_run_warning_t warnings[SGS_RUN_MAX_WARNINGS];
    size_t n_warnings;

    /* the output set, locked from before the first step to the end (engine/run_publish.c) */
    struct sgs_publish *publish;
    struct sgs_run_results_ahead *results_ahead; /* a part of results.h5 being written */
    struct sgs_dist_publish *dist_publish; /* instead, in a spread run (engine/dist_publish.h) */
} sgs_run_state_t;

/* The summarize step: summary columns of every grouped customer, then only the customers
 * with a purchase kept, and the totals over the base (engine/run_summary.c). Fills
 * st->summary. */
int sgs_run_summarize(sgs_run_state_t *st, sgs_error_t *err);

/* The RFM step: scores, segments and per-segment totals (engine/run_rfm.c). Fills st->rfm. */
int sgs_run_rfm(sgs_run_state_t *st, sgs_error_t *err);

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
 * st->value.p_alive_informative (engine/value_diagnostics.c). */
void sgs_value_check_identification(sgs_run_state_t *st);

/* The value step: fit the configured purchase model and Gamma-Gamma, score every customer
 * (engine/run_value.c). Fills st->value; skipped when value.model is "none". */
int sgs_run_value(sgs_run_state_t *st, sgs_error_t *err);

/* The segment step: features, optional PCA, k (given or chosen), k-means, profiles
 * (engine/run_segments.c). Fills st->segments; skipped when segments.enabled is false. */
int sgs_run_segments(sgs_run_state_t *st, sgs_error_t *err);
/* Stages, influence and opportunities (engine/run_actions.c): reads /events and /customers
 * when present. Sets st->actions, owned: free with sgs_run_actions_free (NULL-safe). */
int sgs_run_actions(sgs_run_state_t *st, sgs_error_t *err);
void sgs_run_actions_free(struct sgs_run_actions *actions);

/* Free a column of an earlier step that no later reader needs and leave it NULL, so that a
 * reader after this point fails loudly instead of reading freed memory. */
#define SGS_RUN_RELEASE(column)                                                                    \
    do {                                                                                           \
        sgs_free(column);                                                                          \
        (column) = NULL;                                                                           \
    } while (0)

/* Add a warning with its code (printed, and kept for the summary and report); warnings past
 * SGS_RUN_MAX_WARNINGS are printed only (engine/run_warnings.c). */
void sgs_run_warn(sgs_run_state_t *st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Output writers: each writes one complete file at `path` (a temporary name chosen by the
 * caller) from the state. @return 0 or an SGS_E* code with err naming the file. The results
 * file is written in four parts (engine/run_publish.c): the models' part creates it after
 * the value step (/customers, /rfm, /clv, /models, /backtest), the segments' part adds
 * /clusters, /profiles and the root attributes after the segment step, the stages' part
 * /stages and /influence after the stage step, the actions' part /backtest/stages, /audit and
 * /opportunities. */
int sgs_write_results_models_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_results_segments_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_results_stages_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_results_actions_h5(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_summary_json(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_customers_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_report(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_report_html(const sgs_run_state_t *st, const char *path, sgs_error_t *err);
int sgs_write_opportunities_csv(const sgs_run_state_t *st, const char *path, sgs_error_t *err);

/* One per-customer column of the results file (engine/write_results.c): the run's n_customers
 * rows of data; in a spread run every process's rows at its offset, written by all together
 * and agreed (contiguous, or chunked and compressed as one process's, io/h5_columns.h
 * sgs_h5_write_column_part). */
int sgs_run_write_column(const sgs_run_state_t *st, hid_t f, const char *path, sgs_h5_type_t type,
                         const void *data, int deflate_level, sgs_error_t *err);

/* The backtest's parts of the outputs (engine/write_backtest.c). */
int sgs_write_backtest_h5(hid_t file, const sgs_run_state_t *st, sgs_error_t *err);
/* /backtest/stages, which the stages step fills: in the results' actions part. */
int sgs_write_backtest_stages_h5(hid_t file, const sgs_run_state_t *st, sgs_error_t *err);
struct cJSON *sgs_backtest_json(const sgs_run_state_t *st);
void sgs_report_backtest(const sgs_run_state_t *st, FILE *out);

/* The segment step's parts of the outputs (engine/write_segments.c). */
int sgs_write_segments_h5(hid_t file, const sgs_run_state_t *st, int deflate_level,
                          sgs_error_t *err);
/* The string datasets sgs_write_segments_h5 leaves out in a spread run (parallel HDF5 cannot
 * write variable-length data): written by process 0 alone into the closed file reopened. */
int sgs_write_segments_strings_h5(hid_t file, const sgs_run_state_t *st, sgs_error_t *err);
struct cJSON *sgs_segments_json(const sgs_run_state_t *st);
void sgs_report_segments(const sgs_run_state_t *st, FILE *out);

/* Before any work: resolve every output path, check each against the input, the
 * configuration file and the other outputs (64 naming both; 64 or 73 for an unusable path),
 * take the output set's lock (75 naming the holder) and remove what a stopped run of the set
 * left (engine/run_publish.c, io/publish.h). */
int sgs_run_publish_open(sgs_run_state_t *st, sgs_error_t *err);

/* Right after the value step: begin the new generation and write results.h5's models' part
 * into it, on a thread of its own while the segment step runs when the run has more than one
 * thread (the segment step calls no HDF5), else at once. */
int sgs_run_publish_models(sgs_run_state_t *st, sgs_error_t *err);

/* Right after the segment step: once the models' part is written, write what the segment
 * step made (results.h5's segments' part) and customers.csv, the step "write customers". */
int sgs_run_publish_customers(sgs_run_state_t *st, sgs_error_t *err);

/* Right after the stage step: results.h5's stages' part, as the models' part (the opportunity
 * step calls no HDF5). */
int sgs_run_publish_stages(sgs_run_state_t *st, sgs_error_t *err);

/* Publish every output together: the rest of each is written into the new generation and
 * every output flushed, then one rename makes the whole set visible. A failure or a signal before
 * that rename leaves the previous set as it was (docs/publishing.md). */
int sgs_run_publish(sgs_run_state_t *st, sgs_error_t *err);

/* Wait for a part of results.h5 still being written, then remove an unpublished generation
 * and release the lock. NULL-safe on st->publish. */
void sgs_run_publish_close(sgs_run_state_t *st);

#endif
