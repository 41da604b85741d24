/*
 * datasets/generate.c — the generator's driver: parameters, customer ids, blocks of
 * customers simulated in parallel, rows shuffled within each block, streamed into HDF5
 * with the columns' appenders, published atomically. See generate.h.
 *
 * Pipeline: customers 0..n_total-1 are cut into blocks of block_customers, each block into
 * sub-blocks of SUB_BLOCK customers. In step k, three things happen at once: one thread
 * appends block k - 2 to the file (HDF5 is used by one thread at a time; deflate there is
 * the bottleneck), one thread assembles block k - 1 (the sub-blocks' rows concatenated in
 * order, then a Fisher-Yates shuffle keyed by (seed, block)), and the remaining threads,
 * then all threads as they finish, simulate the sub-blocks of block k into their own row
 * buffers. Nothing depends on which thread did what, so the file is the same for any
 * thread count.
 */
#include "datasets/generate.h"

#include "datasets/generate_internal.h"
#include "datasets/sim_random.h"
#include "datasets/simulate.h"
#include "io/atomic_file.h"
#include "io/h5_columns.h"
#include "io/h5_output.h"
#include "kernels/tables.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SUB_BLOCK ((size_t)1024)
#define CHUNK_ROWS ((size_t)1 << 16)

/* Streams outside the customers' (customer streams are 8 i + purpose, i < 2^40). */
#define STREAM_ID_FEISTEL (UINT64_C(1) << 62)
#define STREAM_SHUFFLE (UINT64_C(3) << 62)

/* ---- Parameters ----------------------------------------------------------------------- */

void sgs_generate_defaults(sgs_generate_params_t *p)
{
    memset(p, 0, sizeof *p);
    p->n_customers = 0;
    p->seed = SGS_GEN_DEFAULT_SEED;
    p->start_day = 18809; /* 2021-07-01 */
    p->end_day = 19904;   /* 2024-06-30 */
    snprintf(p->start_date, sizeof p->start_date, "2021-07-01");
    snprintf(p->end_date, sizeof p->end_date, "2024-06-30");
    p->prospect_share = SGS_GEN_DEFAULT_PROSPECTS;
    p->refund_share = SGS_GEN_DEFAULT_REFUND_SHARE;
    p->r = SGS_GEN_DEFAULT_R;
    p->alpha = SGS_GEN_DEFAULT_ALPHA;
    p->a = SGS_GEN_DEFAULT_A;
    p->b = SGS_GEN_DEFAULT_B;
    p->p = SGS_GEN_DEFAULT_P;
    p->q = SGS_GEN_DEFAULT_Q;
    p->gamma = SGS_GEN_DEFAULT_GAMMA;
    p->with_events = 1;
    p->deflate_level = 1;
    p->block_customers = SGS_GEN_DEFAULT_BLOCK;
}

static int positive(double x)
{
    return isfinite(x) && x > 0.0;
}

int sgs_generate_check(const sgs_generate_params_t *p, sgs_error_t *err)
{
    if (p->n_customers < 1 || p->n_customers > SGS_GEN_MAX_CUSTOMERS)
        return sgs_error_set(err, SGS_EUSAGE, "--customers must be 1..%llu, got %llu",
                             (unsigned long long)SGS_GEN_MAX_CUSTOMERS,
                             (unsigned long long)p->n_customers);
    if (p->seed > (uint64_t)INT64_MAX)
        return sgs_error_set(err, SGS_EUSAGE, "--seed must be 0..%lld", (long long)INT64_MAX);
    if (p->start_day < 0 || p->end_day < p->start_day || p->end_day > 2932896 /* 9999 */)
        return sgs_error_set(err, SGS_EUSAGE,
                             "the window must lie in 1970-01-01..9999-12-31 and --end must not "
                             "be before --start (start day %lld, end day %lld)",
                             (long long)p->start_day, (long long)p->end_day);
    if (!(isfinite(p->prospect_share) && p->prospect_share >= 0.0 && p->prospect_share <= 10.0))
        return sgs_error_set(err, SGS_EUSAGE, "--prospects must be a share 0..10, got %g",
                             p->prospect_share);
    if (!(isfinite(p->refund_share) && p->refund_share >= 0.0 && p->refund_share <= 1.0))
        return sgs_error_set(err, SGS_EUSAGE, "--refund-rate must be a share 0..1, got %g",
                             p->refund_share);
    const struct {
        const char *name;
        double value;
    } pos[] = {{"--r", p->r}, {"--alpha", p->alpha}, {"--a", p->a},        {"--b", p->b},
               {"--p", p->p}, {"--q", p->q},         {"--gamma", p->gamma}};
    for (size_t k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!positive(pos[k].value))
            return sgs_error_set(err, SGS_EUSAGE, "%s must be a positive finite number, got %g",
                                 pos[k].name, pos[k].value);
    /* Keep the output finite: at most 10 expected purchases per day per customer. */
    if (p->r / p->alpha > 10.0)
        return sgs_error_set(err, SGS_EUSAGE,
                             "--r / --alpha (mean purchases per day) must be <= 10, got %g",
                             p->r / p->alpha);
    if (p->deflate_level < 0 || p->deflate_level > 9)
        return sgs_error_set(err, SGS_EUSAGE, "deflate level must be 0..9, got %d",
                             p->deflate_level);
    uint64_t total = p->n_customers + (uint64_t)llround(p->prospect_share * (double)p->n_customers);
    if (total >= (UINT64_C(1) << 40))
        return sgs_error_set(err, SGS_EUSAGE, "too many customers with prospects (%llu)",
                             (unsigned long long)total);
    if (p->block_customers > ((size_t)1 << 24))
        return sgs_error_set(err, SGS_EUSAGE, "block of %zu customers is too large",
                             p->block_customers);
    return SGS_OK;
}

/* ---- Customer ids --------------------------------------------------------------------- */

/* Balanced Feistel network on 2 * half_bits bits (4 rounds): a bijection of
 * 0 .. 2^(2 half_bits) - 1 whatever the round function (Luby and Rackoff 1988). */
static uint64_t feistel(uint64_t seed, uint64_t value, unsigned half_bits)
{
    const uint64_t mask = (UINT64_C(1) << half_bits) - 1;
    uint64_t left = (value >> half_bits) & mask, right = value & mask;
    for (uint64_t round = 0; round < 4; round++) {
        uint64_t f = sgs_rng_u64(seed, STREAM_ID_FEISTEL, (round << 32) | right) & mask;
        uint64_t next = left ^ f;
        left = right;
        right = next;
    }
    return (left << half_bits) | right;
}

int64_t sgs_generate_customer_id(uint64_t seed, uint64_t index, uint64_t n_total)
{
    /* Cycle walking: apply the permutation of the smallest even-bit domain holding n_total
     * values until the result falls below n_total. That domain is less than 4 n_total, so
     * a few steps on average; the result is a permutation of 0 .. n_total - 1. */
    unsigned half_bits = 1;
    while (half_bits < 31 && (UINT64_C(1) << (2 * half_bits)) < n_total)
        half_bits++;
    uint64_t v = index;
    do
        v = feistel(seed, v, half_bits);
    while (v >= n_total);
    return (int64_t)v + 1;
}

/* ---- Writer state --------------------------------------------------------------------- */

/* Buffer sets rotate: sub-block rows of block k live in sub[k % 2], its customer columns
 * in cust[k % 3], its assembled rows in flat[k % 2]. */
typedef struct gen_state {
    sgs__sim_model_t model;
    size_t block; /* customers per block */
    size_t n_blocks;
    size_t n_sub;                 /* sub-blocks of a full block */
    sgs__sim_rows_t *sub[2];      /* [k % 2][sub-block] */
    sgs__sim_customers_t cust[3]; /* [k % 3] */
    sgs__sim_rows_t flat[2];      /* [k % 2]: a block's rows, concatenated then shuffled */
    hid_t file;
    sgs_h5_appender_t *tx[SGS__GEN_N_TX], *ev[SGS__GEN_N_EV], *cu[SGS__GEN_N_CU],
        *tr[SGS__GEN_N_TR];
    sgs_generate_stats_t stats;
    sgs_generate_progress_fn progress;
    void *progress_ctx;
} gen_state_t;

static size_t block_first(const gen_state_t *g, size_t k)
{
    return k * g->block;
}

static size_t block_count(const gen_state_t *g, size_t k)
{
    uint64_t first = (uint64_t)block_first(g, k);
    uint64_t left = g->model.n_total - first;
    return left < g->block ? (size_t)left : g->block;
}

/* Simulate sub-block s of block k. */
static void simulate_sub_block(gen_state_t *g, size_t k, size_t s)
{
    sgs__sim_rows_t *rows = &g->sub[k % 2][s];
    sgs__sim_customers_t *cust = &g->cust[k % 3];
    sgs__sim_rows_clear(rows);
    size_t count = block_count(g, k);
    size_t lo = s * SUB_BLOCK, hi = lo + SUB_BLOCK < count ? lo + SUB_BLOCK : count;
    uint64_t first = (uint64_t)block_first(g, k);
    for (size_t pos = lo; pos < hi && !rows->failed; pos++)
        sgs__sim_customer(&g->model, first + pos, rows, cust, pos);
}

/* Swap rows a and b of every column of a transaction or event table. */
#define SWAP(type, arr, a, b)                                                                      \
    do {                                                                                           \
        type swap_tmp_ = (arr)[a];                                                                 \
        (arr)[a] = (arr)[b];                                                                       \
        (arr)[b] = swap_tmp_;                                                                      \
    } while (0)

/* Fisher-Yates (Durstenfeld) shuffle of the flat rows, keyed by (seed, block, table). */
static void shuffle_flat(gen_state_t *g, size_t k)
{
    sgs__sim_rows_t *f = &g->flat[k % 2];
    sgs_rng_t rng;
    sgs_rng_init(&rng, g->model.params.seed, STREAM_SHUFFLE | ((uint64_t)k << 1));
    for (size_t i = f->n_tx; i > 1; i--) {
        size_t j = (size_t)sgs__rand_below(&rng, i), last = i - 1;
        SWAP(int64_t, f->tx_customer, last, j);
        SWAP(int64_t, f->tx_time, last, j);
        SWAP(double, f->tx_amount, last, j);
        SWAP(uint8_t, f->tx_channel, last, j);
        SWAP(int32_t, f->tx_category, last, j);
    }
    sgs_rng_init(&rng, g->model.params.seed, STREAM_SHUFFLE | ((uint64_t)k << 1) | 1);
    for (size_t i = f->n_ev; i > 1; i--) {
        size_t j = (size_t)sgs__rand_below(&rng, i), last = i - 1;
        SWAP(int64_t, f->ev_customer, last, j);
        SWAP(int64_t, f->ev_time, last, j);
        SWAP(uint8_t, f->ev_kind, last, j);
        SWAP(double, f->ev_value, last, j);
        SWAP(uint8_t, f->ev_channel, last, j);
    }
}

/* Concatenate the sub-blocks' rows of block k in order into flat[k % 2] and shuffle them. */
static int assemble_block(gen_state_t *g, size_t k, sgs_error_t *err)
{
    size_t n_sub = sgs_block_count(block_count(g, k), SUB_BLOCK);
    sgs__sim_rows_t *sub = g->sub[k % 2], *f = &g->flat[k % 2];
    size_t n_tx = 0, n_ev = 0;
    for (size_t s = 0; s < n_sub; s++) {
        if (sub[s].failed)
            return sgs_error_set(err, SGS_ENOMEM, "out of memory while simulating customers");
        n_tx += sub[s].n_tx;
        n_ev += sub[s].n_ev;
    }
    if (sgs__sim_rows_reserve(f, n_tx, n_ev) != SGS_OK)
        return sgs_error_set(err, SGS_ENOMEM, "out of memory for a block of %zu rows", n_tx + n_ev);
    f->n_tx = f->n_ev = 0;
    f->n_purchases = f->n_refunds = 0;
    for (size_t s = 0; s < n_sub; s++) {
        const sgs__sim_rows_t *r = &sub[s];
        if (r->n_tx) { /* (empty buffers may be NULL) */
            memcpy(f->tx_customer + f->n_tx, r->tx_customer, r->n_tx * sizeof(int64_t));
            memcpy(f->tx_time + f->n_tx, r->tx_time, r->n_tx * sizeof(int64_t));
            memcpy(f->tx_amount + f->n_tx, r->tx_amount, r->n_tx * sizeof(double));
            memcpy(f->tx_channel + f->n_tx, r->tx_channel, r->n_tx * sizeof(uint8_t));
            memcpy(f->tx_category + f->n_tx, r->tx_category, r->n_tx * sizeof(int32_t));
        }
        if (r->n_ev) {
            memcpy(f->ev_customer + f->n_ev, r->ev_customer, r->n_ev * sizeof(int64_t));
            memcpy(f->ev_time + f->n_ev, r->ev_time, r->n_ev * sizeof(int64_t));
            memcpy(f->ev_kind + f->n_ev, r->ev_kind, r->n_ev * sizeof(uint8_t));
            memcpy(f->ev_value + f->n_ev, r->ev_value, r->n_ev * sizeof(double));
            memcpy(f->ev_channel + f->n_ev, r->ev_channel, r->n_ev * sizeof(uint8_t));
        }
        f->n_tx += r->n_tx;
        f->n_ev += r->n_ev;
        f->n_purchases += r->n_purchases;
        f->n_refunds += r->n_refunds;
    }
    shuffle_flat(g, k);
    return SGS_OK;
}

/* Append block k (assembled rows and customer columns) to every table. HDF5: one thread. */
static int write_block(gen_state_t *g, size_t k, sgs_error_t *err)
{
    size_t count = block_count(g, k);
    const sgs__sim_rows_t *f = &g->flat[k % 2];
    const void *tx_data[SGS__GEN_N_TX] = {f->tx_customer, f->tx_time, f->tx_amount, f->tx_channel,
                                          f->tx_category};
    const void *ev_data[SGS__GEN_N_EV] = {f->ev_customer, f->ev_time, f->ev_kind, f->ev_value,
                                          f->ev_channel};
    const sgs__sim_customers_t *c = &g->cust[k % 3];
    const void *cu_data[SGS__GEN_N_CU] = {c->customer_id, c->signup_time, c->referrer_id,
                                          c->preferred_channel};
    const void *tr_data[SGS__GEN_N_TR] = {
        c->customer_id, c->is_prospect,   c->lambda,         c->p_drop,       c->nu,
        c->mean_spend,  c->birth_time,    c->death_time,     c->alive_at_end, c->n_purchases,
        c->subscriber,  c->support_burst, c->missed_renewal, c->cancelled,    c->stopped_buying};
    int rc = SGS_OK;
    for (int col = 0; col < SGS__GEN_N_TX && !rc; col++)
        rc = sgs_h5_appender_append(g->tx[col], tx_data[col], f->n_tx, err);
    for (int col = 0; col < SGS__GEN_N_EV && !rc && g->ev[0]; col++)
        rc = sgs_h5_appender_append(g->ev[col], ev_data[col], f->n_ev, err);
    for (int col = 0; col < SGS__GEN_N_CU && !rc; col++)
        rc = sgs_h5_appender_append(g->cu[col], cu_data[col], count, err);
    for (int col = 0; col < SGS__GEN_N_TR && !rc; col++)
        rc = sgs_h5_appender_append(g->tr[col], tr_data[col], count, err);
    if (rc)
        return rc;
    g->stats.n_transactions += f->n_tx;
    g->stats.n_events += f->n_ev;
    g->stats.n_purchases += f->n_purchases;
    g->stats.n_refunds += f->n_refunds;
    if (g->progress)
        g->progress(g->progress_ctx, "customers", block_first(g, k) + count,
                    (size_t)g->model.n_total);
    return SGS_OK;
}

/* ---- File structure ------------------------------------------------------------------- */

static int open_appenders(gen_state_t *g, sgs_error_t *err)
{
    int level = g->model.params.deflate_level;
    int rc = SGS_OK;
    for (int c = 0; c < SGS__GEN_N_TX && !rc; c++)
        rc = sgs_h5_appender_create(g->file, sgs__gen_tx_cols[c].path, sgs__gen_tx_cols[c].type,
                                    CHUNK_ROWS, level, &g->tx[c], err);
    for (int c = 0; c < SGS__GEN_N_EV && !rc && g->model.params.with_events; c++)
        rc = sgs_h5_appender_create(g->file, sgs__gen_ev_cols[c].path, sgs__gen_ev_cols[c].type,
                                    CHUNK_ROWS, level, &g->ev[c], err);
    for (int c = 0; c < SGS__GEN_N_CU && !rc; c++)
        rc = sgs_h5_appender_create(g->file, sgs__gen_cu_cols[c].path, sgs__gen_cu_cols[c].type,
                                    CHUNK_ROWS, level, &g->cu[c], err);
    for (int c = 0; c < SGS__GEN_N_TR && !rc; c++)
        rc = sgs_h5_appender_create(g->file, sgs__gen_tr_cols[c].path, sgs__gen_tr_cols[c].type,
                                    CHUNK_ROWS, level, &g->tr[c], err);
    return rc;
}

/* Close every appender (flushing the last chunks); the first error wins. */
static int close_appenders(gen_state_t *g, sgs_error_t *err)
{
    int rc = SGS_OK;
    sgs_h5_appender_t **all[] = {g->tx, g->ev, g->cu, g->tr};
    const int n[] = {SGS__GEN_N_TX, SGS__GEN_N_EV, SGS__GEN_N_CU, SGS__GEN_N_TR};
    for (int t = 0; t < 4; t++) {
        for (int c = 0; c < n[t]; c++) {
            int r = sgs_h5_appender_close(all[t][c], rc ? NULL : err);
            if (r && !rc)
                rc = r;
            if (r == SGS_EIO || r == SGS_ENOSPACE) /* the file will be removed: let the other
                                                       closes succeed */
                sgs_h5_discard_writes(g->file);
            all[t][c] = NULL;
        }
    }
    return rc;
}

/* "0=unknown,1=store,..." for a code table. */
static void code_table(char *buf, size_t size, int first, int count, const char *(*name)(int))
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = first; c < count && used < size; c++) {
        int n = snprintf(buf + used, size - used, "%s%d=%s", c == first ? "" : ",", c, name(c));
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int sgs__generate_write_attributes(hid_t f, const sgs__sim_model_t *m, uint64_t block,
                                   sgs_error_t *err)
{
    const sgs_generate_params_t *p = &m->params;
    char channels[256], kinds[512];
    code_table(channels, sizeof channels, 0, SGS_CHANNEL_COUNT, sgs_channel_name);
    code_table(kinds, sizeof kinds, 1, SGS_EVENT_KIND_COUNT, sgs_event_kind_name);
    int rc = sgs_h5_attr_string(f, "/transactions", "channel_names", channels, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/transactions", "time_unit", "Unix seconds, UTC", err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/customers", "preferred_channel_names", channels, err);
    if (!rc)
        rc = sgs_h5_attr_int64(f, "/customers", "referrer_none", -1, err);
    if (!rc && p->with_events)
        rc = sgs_h5_attr_string(f, "/events", "kind_names", kinds, err);
    if (!rc && p->with_events)
        rc = sgs_h5_attr_string(f, "/events", "channel_names", channels, err);
    if (!rc && p->with_events)
        rc = sgs_h5_attr_string(f, "/events", "channel_meaning",
                                "the channel of a campaign contact or response (kinds 7, 8), "
                                "support contact or complaint (1, 2); 0 for the others",
                                err);
    if (!rc && p->with_events)
        rc = sgs_h5_attr_string(f, "/events", "value_meaning",
                                "survey score 0..10 for kind 6, NaN otherwise", err);
    const struct {
        const char *name;
        double value;
    } dbl[] = {{"r", p->r},
               {"alpha", p->alpha},
               {"a", p->a},
               {"b", p->b},
               {"p", p->p},
               {"q", p->q},
               {"gamma", p->gamma},
               {"prospect_share", p->prospect_share},
               {"refund_share", p->refund_share}};
    for (size_t k = 0; k < sizeof dbl / sizeof dbl[0] && !rc; k++)
        rc = sgs_h5_attr_double(f, "/truth", dbl[k].name, dbl[k].value, err);
    const struct {
        const char *name;
        int64_t value;
    } i64[] = {{"seed", (int64_t)p->seed},
               {"n_customers", (int64_t)m->n_buyers},
               {"n_prospects", (int64_t)(m->n_total - m->n_buyers)},
               {"window_start_time", m->start_s},
               {"window_end_time", m->end_s},
               {"window_start_day", p->start_day},
               {"window_end_day", p->end_day},
               {"block_customers", (int64_t)block},
               {"with_events", p->with_events}};
    for (size_t k = 0; k < sizeof i64 / sizeof i64[0] && !rc; k++)
        rc = sgs_h5_attr_int64(f, "/truth", i64[k].name, i64[k].value, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth", "time_unit", "day", err);
    if (!rc && p->start_date[0])
        rc = sgs_h5_attr_string(f, "/truth", "window_start", p->start_date, err);
    if (!rc && p->end_date[0])
        rc = sgs_h5_attr_string(f, "/truth", "window_end", p->end_date, err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/truth", "model",
                                "BG/NBD (Fader, Hardie and Lee 2005) purchases with "
                                "lambda ~ Gamma(r, rate alpha) per day and dropout p ~ "
                                "Beta(a, b) after each repeat purchase, at most one purchase "
                                "occasion per day (same-day arrivals moved to earlier days, "
                                "keeping BG/NBD's x and t_x); Gamma-Gamma spend per occasion "
                                "z ~ Gamma(p, rate nu), nu ~ Gamma(q, rate gamma)",
                                err);
    if (!rc)
        rc = sgs_h5_attr_string(f, "/", "generator", "segscore generate " SGS_VERSION, err);
    return rc;
}

/* ---- Driver --------------------------------------------------------------------------- */

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void state_free(gen_state_t *g)
{
    for (int set = 0; set < 2; set++) {
        if (g->sub[set]) {
            for (size_t s = 0; s < g->n_sub; s++)
                sgs__sim_rows_free(&g->sub[set][s]);
            sgs_free(g->sub[set]);
            g->sub[set] = NULL;
        }
        sgs__sim_rows_free(&g->flat[set]);
    }
    for (int set = 0; set < 3; set++)
        sgs__sim_customers_free(&g->cust[set]);
}

static int state_alloc(gen_state_t *g, sgs_error_t *err)
{
    g->n_sub = sgs_block_count(g->block, SUB_BLOCK);
    int ok = 1;
    for (int set = 0; set < 2; set++)
        ok &= (g->sub[set] = sgs_calloc_array(g->n_sub, sizeof(sgs__sim_rows_t))) != NULL;
    for (int set = 0; set < 3; set++)
        ok &= sgs__sim_customers_alloc(&g->cust[set], g->block) == SGS_OK;
    return ok ? SGS_OK
              : sgs_error_set(err, SGS_ENOMEM, "out of memory for a block of %zu customers",
                              g->block);
}

/* Step k: write block k - 2, assemble block k - 1, simulate block k, all at once. */
static int run_blocks(gen_state_t *g, const sgs_exec_t *exec, sgs_error_t *err)
{
    int n_threads = sgs_exec_threads(exec);
    int rc = SGS_OK;
    for (size_t k = 0; k < g->n_blocks + 2 && !rc; k++) {
        rc = sgs_exec_stop(exec, err); /* between steps: no block half-written */
        if (rc)
            break;
        const size_t n_sub = k < g->n_blocks ? sgs_block_count(block_count(g, k), SUB_BLOCK) : 0;
        int write_rc = SGS_OK, assemble_rc = SGS_OK;
        sgs_error_t assemble_err = {0};
#pragma omp parallel num_threads(n_threads)
        {
#pragma omp single nowait
            {
                if (k >= 2)
                    write_rc = write_block(g, k - 2, err);
            }
#pragma omp single nowait
            {
                if (k >= 1 && k - 1 < g->n_blocks)
                    assemble_rc = assemble_block(g, k - 1, &assemble_err);
            }
#pragma omp for schedule(dynamic, 1) nowait
            for (size_t s = 0; s < n_sub; s++)
                simulate_sub_block(g, k, s);
        }
        rc = write_rc;
        if (!rc && assemble_rc) {
            rc = assemble_rc;
            if (err)
                *err = assemble_err;
        }
    }
    return rc;
}

int sgs_generate_file(const char *path, const sgs_generate_params_t *params, const sgs_exec_t *exec,
                      sgs_generate_progress_fn progress, void *progress_ctx,
                      sgs_generate_stats_t *stats, sgs_error_t *err)
{
    double t0 = wall_s();
    int rc = sgs_generate_check(params, err);
    if (rc)
        return rc;
    sgs_h5_quiet();
    gen_state_t *g = sgs_calloc_array(1, sizeof *g);
    if (!g)
        return sgs_error_set(err, SGS_ENOMEM, "out of memory");
    g->file = -1;
    g->progress = progress;
    g->progress_ctx = progress_ctx;
    sgs__sim_model_init(&g->model, params);
    g->block = params->block_customers ? params->block_customers : SGS_GEN_DEFAULT_BLOCK;
    uint64_t n_blocks = (g->model.n_total + g->block - 1) / g->block;
    g->n_blocks = (size_t)n_blocks;

    sgs_atomic_t out;
    int begun = 0;
    rc = sgs_atomic_begin(path, &out, err);
    if (rc)
        goto cleanup;
    begun = 1;
    rc = state_alloc(g, err);
    if (rc)
        goto cleanup;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_sec2(fapl) >= 0)
        g->file = H5Fcreate(out.temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (g->file < 0) {
        rc = sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create an HDF5 file", path);
        goto cleanup;
    }
    rc = open_appenders(g, err);
    if (!rc)
        rc = run_blocks(g, exec, err);
    if (!rc)
        rc = sgs__generate_write_attributes(g->file, &g->model, g->block, err);
    if (rc == SGS_EIO || rc == SGS_ENOSPACE)
        sgs_h5_discard_writes(g->file);
    int close_rc = close_appenders(g, rc ? NULL : err);
    if (!rc)
        rc = close_rc;
    rc = sgs_h5_finish_output(g->file, rc, err);
    g->file = -1;
    if (rc == SGS_ENOSPACE) /* "<temporary>: no space left on device" */
        sgs_error_rename(err, out.temp_path, path);
    else if (rc && rc != SGS_EINTR) /* the dataset is named; say which file (a stop says why) */
        sgs_error_prefix(err, "writing %s", path);
    if (!rc) /* the last point where the command can step back */
        rc = sgs_exec_stop(exec, err);
    if (!rc)
        rc = sgs_atomic_commit(&out, err);
    if (rc)
        goto cleanup;
    begun = 0;
    g->stats.n_customers = g->model.n_buyers;
    g->stats.n_prospects = g->model.n_total - g->model.n_buyers;
    g->stats.seconds = wall_s() - t0;
    if (stats)
        *stats = g->stats;
cleanup:
    if (g->file >= 0) {
        close_appenders(g, NULL);
        H5Fclose(g->file);
    }
    if (begun)
        sgs_atomic_abort(&out);
    state_free(g);
    sgs_free(g);
    return rc;
}

/* ---- The file's columns (datasets/generate_internal.h) ------------------------------------ */

const sgs__gen_column_t sgs__gen_tx_cols[SGS__GEN_N_TX] = {
    {"/transactions/customer_id", SGS_H5_I64},
    {"/transactions/time", SGS_H5_I64},
    {"/transactions/amount", SGS_H5_F64},
    {"/transactions/channel", SGS_H5_U8},
    {"/transactions/category", SGS_H5_I32}};
const sgs__gen_column_t sgs__gen_ev_cols[SGS__GEN_N_EV] = {{"/events/customer_id", SGS_H5_I64},
                                                           {"/events/time", SGS_H5_I64},
                                                           {"/events/kind", SGS_H5_U8},
                                                           {"/events/value", SGS_H5_F64},
                                                           {"/events/channel", SGS_H5_U8}};
const sgs__gen_column_t sgs__gen_cu_cols[SGS__GEN_N_CU] = {
    {"/customers/customer_id", SGS_H5_I64},
    {"/customers/signup_time", SGS_H5_I64},
    {"/customers/referrer_id", SGS_H5_I64},
    {"/customers/preferred_channel", SGS_H5_U8}};
const sgs__gen_column_t sgs__gen_tr_cols[SGS__GEN_N_TR] = {{"/truth/customer_id", SGS_H5_I64},
                                                           {"/truth/is_prospect", SGS_H5_U8},
                                                           {"/truth/lambda", SGS_H5_F64},
                                                           {"/truth/p_drop", SGS_H5_F64},
                                                           {"/truth/nu", SGS_H5_F64},
                                                           {"/truth/mean_spend", SGS_H5_F64},
                                                           {"/truth/birth_time", SGS_H5_I64},
                                                           {"/truth/death_time", SGS_H5_I64},
                                                           {"/truth/alive_at_end", SGS_H5_U8},
                                                           {"/truth/n_purchases", SGS_H5_I32},
                                                           {"/truth/subscriber", SGS_H5_U8},
                                                           {"/truth/support_burst", SGS_H5_U8},
                                                           {"/truth/missed_renewal", SGS_H5_U8},
                                                           {"/truth/cancelled", SGS_H5_U8},
                                                           {"/truth/stopped_buying", SGS_H5_U8}};
