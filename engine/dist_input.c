/*
 * engine/dist_input.c — read the input spread over the processes and give each process the
 * rows of the customers it owns (engine/dist_input.h).
 *
 * The owners are found in two exchanges of ids before any row moves: each process's distinct
 * ids go to provisional owners cut at splitters sampled from every process, which then know
 * how many distinct customers there are before theirs; the final cuts are at multiples of
 * SGS_BLOCK_ROWS of that order. Then each row moves once.
 */
#include "engine/dist_input.h"

#include "kernels/group.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPLITTER_SAMPLES 256 /* ids each process offers for the provisional cuts */

void sgs_dist_owners_free(sgs_dist_owners_t *o)
{
    if (!o)
        return;
    sgs_free(o->first_id);
    memset(o, 0, sizeof *o);
}

/* The last of cut[0 .. n) (ascending, cut[0] the lowest) at or below id; 0 when none. */
static int last_at_or_below(const int64_t *cut, int n, int64_t id)
{
    int lo = 0, hi = n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (cut[mid] <= id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int sgs_dist_owner_of(const sgs_dist_owners_t *o, int64_t id)
{
    return last_at_or_below(o->first_id, o->n_owning, id);
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ---- The whole file's figures from the shares' --------------------------------------------- */

/* What a share knows of the order of its rows at its two ends, for the file's sortedness. */
typedef struct share_ends {
    int64_t n_kept, first_id, first_time, last_id, last_time;
} share_ends_t;

static int combine_stats(const sgs_dist_t *d, size_t n_kept, const int64_t *id, const int64_t *time,
                         sgs_read_stats_t *stats, sgs_error_t *err)
{
    int64_t sums[1] = {(int64_t)stats->n_rows_after_as_of};
    int64_t mins[2] = {n_kept ? stats->min_time_s : INT64_MAX, stats->sorted_by_customer};
    int64_t maxs[1] = {n_kept ? stats->max_time_s : INT64_MIN};
    sgs_dist_reduce_i64(d, sums, 1, SGS_DIST_SUM);
    sgs_dist_reduce_i64(d, mins, 2, SGS_DIST_MIN);
    sgs_dist_reduce_i64(d, maxs, 1, SGS_DIST_MAX);
    share_ends_t mine = {(int64_t)n_kept, 0, 0, 0, 0};
    if (n_kept)
        mine = (share_ends_t){(int64_t)n_kept, id[0], time[0], id[n_kept - 1], time[n_kept - 1]};
    share_ends_t *ends = NULL;
    int rc = sgs_dist_gather_all(d, &mine, sizeof mine, (void **)&ends, NULL, err);
    uint64_t *hashes = NULL;
    size_t *counts = calloc((size_t)d->size, sizeof *counts);
    if (rc == SGS_OK)
        rc = sgs_dist_agree(d, counts ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory"), err);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, stats->block_hash, stats->n_block_hash * sizeof *hashes,
                                 (void **)&hashes, counts, err);
    if (rc == SGS_OK) {
        int sorted = (int)mins[1];
        const share_ends_t *prev = NULL;
        for (int p = 0; p < d->size; p++) {
            if (!ends[p].n_kept)
                continue;
            if (prev &&
                (prev->last_id > ends[p].first_id ||
                 (prev->last_id == ends[p].first_id && prev->last_time > ends[p].first_time)))
                sorted = 0;
            prev = &ends[p];
        }
        size_t n_hashes = 0;
        for (int p = 0; p < d->size; p++)
            n_hashes += counts[p] / sizeof *hashes;
        stats->n_rows_after_as_of = (size_t)sums[0];
        stats->min_time_s = mins[0] == INT64_MAX ? 0 : mins[0];
        stats->max_time_s = maxs[0] == INT64_MIN ? 0 : maxs[0];
        stats->sorted_by_customer = sorted;
        if (d->size > 1) /* one process read the whole file: its fingerprint is the file's */
            stats->content_hash64 = sgs_input_fingerprint_of_blocks(hashes, n_hashes);
    }
    sgs_free(ends);
    sgs_free(hashes);
    free(counts);
    return rc;
}

/* ---- Owners ----------------------------------------------------------------------------- */

/* Provisional cuts: every process offers up to SPLITTER_SAMPLES of its distinct ids, evenly
 * spaced; cut[p] (p = 1 .. size - 1) is the (p / size) quantile of all offers, cut[0] the
 * lowest id there is. */
static int provisional_cuts(const sgs_dist_t *d, const int64_t *ids, size_t n, int64_t *cut,
                            sgs_error_t *err)
{
    int64_t offer[SPLITTER_SAMPLES];
    size_t n_offer = n < SPLITTER_SAMPLES ? n : SPLITTER_SAMPLES;
    for (size_t k = 0; k < n_offer; k++)
        offer[k] = ids[k * n / n_offer];
    int64_t *all = NULL;
    size_t *counts = calloc((size_t)d->size, sizeof *counts);
    int rc = sgs_dist_agree(d, counts ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory"), err);
    if (rc == SGS_OK)
        rc = sgs_dist_gather_all(d, offer, n_offer * sizeof *offer, (void **)&all, counts, err);
    if (rc == SGS_OK) {
        size_t total = 0;
        for (int p = 0; p < d->size; p++)
            total += counts[p] / sizeof *all;
        qsort(all, total, sizeof *all, compare_i64);
        cut[0] = INT64_MIN;
        for (int p = 1; p < d->size; p++)
            cut[p] = total ? all[(size_t)p * total / (size_t)d->size] : INT64_MAX;
    }
    sgs_free(all);
    free(counts);
    return rc;
}

/* Destination counts of `n` sorted ids: ids [start[p], start[p + 1]) go to process p, for
 * cuts cut[0 .. size). */
static void count_by_cut(const int64_t *ids, size_t n, const int64_t *cut, int size, size_t *bytes,
                         size_t elem)
{
    memset(bytes, 0, (size_t)size * sizeof *bytes);
    for (size_t i = 0; i < n; i++)
        bytes[last_at_or_below(cut, size, ids[i])] += elem;
}

/* The global index g_p of process p's first customer: multiples of SGS_BLOCK_ROWS, at most
 * n_all, p = 0 .. size (g_size = n_all). */
static size_t first_index(size_t p, size_t size, size_t n_all)
{
    if (p == 0)
        return 0;
    if (p >= size)
        return n_all;
    size_t share = n_all / size * p + n_all % size * p / size;
    size_t up = (share + SGS_BLOCK_ROWS - 1) / SGS_BLOCK_ROWS * SGS_BLOCK_ROWS;
    return up < n_all ? up : n_all;
}

/* From this process's distinct ids (ascending), the owners of every id. */
static int find_owners(const sgs_dist_t *d, const int64_t *ids, size_t n, sgs_dist_owners_t *o,
                       sgs_error_t *err)
{
    const size_t size = (size_t)d->size;
    memset(o, 0, sizeof *o);
    o->size = d->size;
    o->first_id = sgs_alloc_array(size, sizeof *o->first_id);
    size_t *bytes = calloc(size, sizeof *bytes), *recv_bytes = calloc(size, sizeof *bytes);
    int rc = !o->first_id || !bytes || !recv_bytes
                 ? sgs_error_set(err, SGS_ENOMEM, "no memory for the owners of %zu customers", n)
                 : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    int64_t *mine = NULL;
    if (rc == SGS_OK)
        rc = provisional_cuts(d, ids, n, o->first_id, err);
    if (rc == SGS_OK) {
        count_by_cut(ids, n, o->first_id, d->size, bytes, sizeof *ids);
        rc = sgs_dist_exchange(d, ids, bytes, (void **)&mine, recv_bytes, err);
    }
    if (rc == SGS_OK) {
        /* sorted runs from each sender: sort, then keep each id once */
        size_t m = 0, c = 0;
        for (size_t p = 0; p < size; p++)
            m += recv_bytes[p] / sizeof *mine;
        qsort(mine, m, sizeof *mine, compare_i64);
        for (size_t i = 0; i < m; i++)
            if (c == 0 || mine[c - 1] != mine[i])
                mine[c++] = mine[i];
        size_t before = (size_t)sgs_dist_offset(d, c);
        int64_t all = (int64_t)c;
        sgs_dist_reduce_i64(d, &all, 1, SGS_DIST_SUM);
        o->n_customers_all = (size_t)all;
        /* the final cuts: whoever holds global index g_p says which id it is */
        for (size_t p = 0; p < size; p++) {
            size_t g = first_index(p, size, o->n_customers_all);
            o->first_id[p] = g >= before && g < before + c ? mine[g - before] : INT64_MIN;
        }
        o->first_id[0] = INT64_MIN;
        sgs_dist_reduce_i64(d, o->first_id, size, SGS_DIST_MAX);
        o->n_owning = 1;
        while ((size_t)o->n_owning < size &&
               first_index((size_t)o->n_owning, size, o->n_customers_all) < o->n_customers_all)
            o->n_owning++;
        size_t r = (size_t)d->rank;
        o->first_customer = first_index(r, size, o->n_customers_all);
        o->n_customers = first_index(r + 1, size, o->n_customers_all) - o->first_customer;
    }
    sgs_free(mine);
    free(bytes);
    free(recv_bytes);
    if (rc)
        sgs_dist_owners_free(o);
    return rc;
}

/* ---- Rows on the move -------------------------------------------------------------------
 * A row travels as one record of its columns, byte-packed: id, time, then the table's own. */

typedef struct row_layout {
    size_t n_cols;
    size_t elem[6];
    size_t record; /* bytes */
} row_layout_t;

static void layout_add(row_layout_t *l, size_t elem)
{
    l->elem[l->n_cols++] = elem;
    l->record += elem;
}

/* Send column c's rows to their owners: `dest` the owner of each row; cols[] the columns
 * (NULL ones skipped: the same on every process, since they are the file's). On return
 * cols[] point to the received rows (allocated; the old ones freed), *n_rows their count. */
static int move_rows(const sgs_dist_t *d, const row_layout_t *l, void **cols, size_t *n_rows,
                     const int *dest, sgs_error_t *err)
{
    const size_t size = (size_t)d->size, n = *n_rows;
    size_t *at = calloc(size, sizeof *at), *bytes = calloc(size, sizeof *bytes),
           *recv_bytes = calloc(size, sizeof *recv_bytes);
    unsigned char *send = sgs_alloc_array(n ? n : 1, l->record);
    int rc = !at || !bytes || !recv_bytes || !send
                 ? sgs_error_set(err, SGS_ENOMEM, "no memory to send %zu rows", n)
                 : SGS_OK;
    rc = sgs_dist_agree(d, rc, err);
    unsigned char *recv = NULL;
    if (rc == SGS_OK) {
        for (size_t i = 0; i < n; i++)
            bytes[dest[i]] += l->record;
        for (size_t p = 1; p < size; p++)
            at[p] = at[p - 1] + bytes[p - 1];
        for (size_t i = 0; i < n; i++) {
            unsigned char *rec = send + at[dest[i]];
            at[dest[i]] += l->record;
            for (size_t k = 0; k < l->n_cols; k++) {
                memcpy(rec, (const unsigned char *)cols[k] + i * l->elem[k], l->elem[k]);
                rec += l->elem[k];
            }
        }
        for (size_t k = 0; k < l->n_cols; k++) {
            sgs_free(cols[k]); /* before the exchange: the rows are in `send` */
            cols[k] = NULL;
        }
        rc = sgs_dist_exchange(d, send, bytes, (void **)&recv, recv_bytes, err);
    }
    sgs_free(send);
    size_t m = 0;
    for (size_t p = 0; rc == SGS_OK && p < size; p++)
        m += recv_bytes[p] / l->record;
    if (rc == SGS_OK) { /* an error so far is agreed already; agree on this one alone */
        int mine = SGS_OK;
        for (size_t k = 0; k < l->n_cols; k++) {
            cols[k] = sgs_alloc_array(m ? m : 1, l->elem[k]);
            if (!cols[k])
                mine = sgs_error_set(err, SGS_ENOMEM, "no memory for %zu received rows", m);
        }
        rc = sgs_dist_agree(d, mine, err);
    }
    if (rc == SGS_OK) {
        for (size_t i = 0; i < m; i++) {
            const unsigned char *rec = recv + i * l->record;
            for (size_t k = 0; k < l->n_cols; k++) {
                memcpy((unsigned char *)cols[k] + i * l->elem[k], rec, l->elem[k]);
                rec += l->elem[k];
            }
        }
        *n_rows = m;
    }
    sgs_free(recv);
    free(at);
    free(bytes);
    free(recv_bytes);
    return rc;
}

/* Each row's owner. */
static int *owners_of_rows(const sgs_dist_owners_t *o, const int64_t *id, size_t n)
{
    int *dest = sgs_alloc_array(n ? n : 1, sizeof *dest);
    if (dest)
        for (size_t i = 0; i < n; i++)
            dest[i] = sgs_dist_owner_of(o, id[i]);
    return dest;
}

/* ---- Transactions and events -------------------------------------------------------------- */

/* This process's share of the rows: opt with the share set. */
static sgs_read_options_t share_of(const sgs_dist_t *d, const sgs_read_options_t *opt)
{
    sgs_read_options_t share = *opt;
    share.share = d->rank;
    share.n_shares = d->size;
    return share;
}

static int move_transactions(const sgs_dist_t *d, const sgs_dist_owners_t *o,
                             sgs_transactions_t *tx, sgs_error_t *err)
{
    row_layout_t l = {0};
    void *cols[4] = {tx->customer_id, tx->time_s, tx->amount, tx->channel};
    layout_add(&l, sizeof *tx->customer_id);
    layout_add(&l, sizeof *tx->time_s);
    layout_add(&l, sizeof *tx->amount);
    if (tx->channel)
        layout_add(&l, sizeof *tx->channel);
    sgs_free(tx->category); /* no step reads it (the run's read leaves it out) */
    tx->category = NULL;
    int *dest = owners_of_rows(o, tx->customer_id, tx->n_rows);
    int rc = sgs_dist_agree(
        d, dest ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu rows", tx->n_rows),
        err);
    if (rc == SGS_OK)
        rc = move_rows(d, &l, cols, &tx->n_rows, dest, err);
    sgs_free(dest);
    tx->customer_id = cols[0];
    tx->time_s = cols[1];
    tx->amount = cols[2];
    tx->channel = cols[3];
    return rc;
}

int sgs_dist_read_transactions(const sgs_dist_t *d, const sgs_exec_t *exec, const char *path,
                               const sgs_read_options_t *opt, sgs_transactions_t *out,
                               sgs_read_stats_t *stats, sgs_dist_owners_t *owners, sgs_error_t *err)
{
    memset(owners, 0, sizeof *owners);
    sgs_read_stats_t own = {0};
    if (!stats)
        stats = &own;
    sgs_read_options_t share = share_of(d, opt);
    int rc = sgs_h5_read_transactions(path, &share, out, stats, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK)
        rc = combine_stats(d, out->n_rows, out->customer_id, out->time_s, stats, err);
    if (rc == SGS_OK) {
        int64_t kept = (int64_t)out->n_rows;
        sgs_dist_reduce_i64(d, &kept, 1, SGS_DIST_SUM);
        if (kept == 0) {
            /* the reader's own words for a whole file (io/h5_input.c) */
            char end[48] = "";
            time_t t = (time_t)opt->as_of_end_s;
            struct tm tm;
            if (gmtime_r(&t, &tm))
                strftime(end, sizeof end, "%Y-%m-%dT%H:%M:%SZ", &tm);
            rc = sgs_error_set(err, SGS_EDATA,
                               "%s: /transactions: all %zu rows are at or after the as-of end "
                               "%s; there is nothing to analyze",
                               path, stats->n_rows_in_file, end);
        }
    }
    /* this share's distinct ids, ascending */
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (rc == SGS_OK) {
        int mine = SGS_OK;
        if (out->n_rows) {
            uint32_t *row_customer = sgs_alloc_array(out->n_rows, sizeof *row_customer);
            mine = row_customer
                       ? sgs_customer_index_build(exec, out->customer_id, out->n_rows, row_customer,
                                                  &ids, &n_ids, err)
                       : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu rows", out->n_rows);
            sgs_free(row_customer);
        }
        rc = sgs_dist_agree(d, mine, err);
    }
    if (rc == SGS_OK)
        rc = find_owners(d, ids, n_ids, owners, err);
    sgs_free(ids);
    if (rc == SGS_OK)
        rc = move_transactions(d, owners, out, err);
    if (rc) {
        sgs_transactions_free(out);
        sgs_dist_owners_free(owners);
    }
    sgs_free(stats->block_hash);
    stats->block_hash = NULL;
    stats->n_block_hash = 0;
    return rc;
}

int sgs_dist_read_events(const sgs_dist_t *d, const char *path, const sgs_read_options_t *opt,
                         const sgs_dist_owners_t *owners, sgs_events_t *out, int *present,
                         sgs_read_stats_t *stats, sgs_error_t *err)
{
    sgs_read_options_t share = share_of(d, opt);
    sgs_read_stats_t own = {0};
    if (!stats)
        stats = &own;
    int rc = sgs_h5_read_events(path, &share, out, present, stats, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK && *present)
        rc = combine_stats(d, out->n_rows, out->customer_id, out->time_s, stats, err);
    if (rc == SGS_OK && *present) {
        row_layout_t l = {0};
        void *cols[5] = {out->customer_id, out->time_s, out->kind, out->value, out->channel};
        layout_add(&l, sizeof *out->customer_id);
        layout_add(&l, sizeof *out->time_s);
        layout_add(&l, sizeof *out->kind);
        size_t k = 3;
        if (out->value) {
            layout_add(&l, sizeof *out->value);
            cols[k++] = out->value;
        }
        if (out->channel) {
            layout_add(&l, sizeof *out->channel);
            cols[k++] = out->channel;
        }
        int *dest = owners_of_rows(owners, out->customer_id, out->n_rows);
        rc = sgs_dist_agree(
            d,
            dest ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu rows", out->n_rows),
            err);
        int has_value = out->value != NULL, has_channel = out->channel != NULL;
        if (rc == SGS_OK)
            rc = move_rows(d, &l, cols, &out->n_rows, dest, err);
        sgs_free(dest);
        out->customer_id = cols[0];
        out->time_s = cols[1];
        out->kind = cols[2];
        k = 3;
        out->value = has_value ? cols[k++] : NULL;
        out->channel = has_channel ? cols[k++] : NULL;
    }
    if (rc) {
        sgs_events_free(out);
        *present = 0;
    }
    sgs_free(stats->block_hash);
    stats->block_hash = NULL;
    stats->n_block_hash = 0;
    return rc;
}

/* ---- Customers ------------------------------------------------------------------------------ */

typedef struct id_row {
    int64_t id, row;
} id_row_t;

static int compare_id_row(const void *a, const void *b)
{
    const id_row_t *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->row > y->row) - (x->row < y->row);
}

/* The process whose candidate row (INT64_MAX: none) is the smallest reports its problem,
 * which becomes everyone's error. */
static int report_earliest(const sgs_dist_t *d, int64_t row, int rc_if_mine, sgs_error_t *err)
{
    int64_t first = row;
    sgs_dist_reduce_i64(d, &first, 1, SGS_DIST_MIN);
    int rc = first != INT64_MAX && first == row ? rc_if_mine : SGS_OK;
    return sgs_dist_agree(d, rc, err);
}

/* Duplicate ids among this process's rows (all rows of an id are on its owner): the pair with
 * the earliest later row, as one process reading the whole table names it. *pairs: the rows'
 * (id, file row), sorted. */
static int check_duplicates(const sgs_dist_t *d, const char *path, const id_row_t *pairs, size_t n,
                            sgs_error_t *err)
{
    size_t best = SIZE_MAX;
    for (size_t k = 1; k < n; k++)
        if (pairs[k].id == pairs[k - 1].id && (best == SIZE_MAX || pairs[k].row < pairs[best].row))
            best = k;
    int rc = SGS_OK;
    if (best != SIZE_MAX)
        rc = sgs_error_set(err, SGS_EDATA,
                           "%s: /customers/customer_id: rows %lld and %lld both have customer_id "
                           "%lld",
                           path, (long long)pairs[best - 1].row, (long long)pairs[best].row,
                           (long long)pairs[best].id);
    return report_earliest(d, best == SIZE_MAX ? INT64_MAX : pairs[best].row, rc, err);
}

/* Referrers that are not customers: each (referrer, row) goes to the owner of the referrer,
 * which looks it up among its ids; the earliest row is the error. */
static int check_referrers(const sgs_dist_t *d, const sgs_dist_owners_t *o, const char *path,
                           const sgs_customers_t *c, const int64_t *row, const id_row_t *pairs,
                           sgs_error_t *err)
{
    const size_t size = (size_t)d->size;
    size_t m = 0;
    for (size_t i = 0; i < c->n_rows; i++)
        m += c->referrer_id[i] != -1;
    id_row_t *asks = sgs_alloc_array(m ? m : 1, sizeof *asks);
    int *dest = sgs_alloc_array(m ? m : 1, sizeof *dest);
    size_t *bytes = calloc(size, sizeof *bytes), *recv_bytes = calloc(size, sizeof *bytes);
    int rc = asks && dest && bytes && recv_bytes
                 ? SGS_OK
                 : sgs_error_set(err, SGS_ENOMEM, "no memory to check %zu referrers", m);
    rc = sgs_dist_agree(d, rc, err);
    id_row_t *got = NULL;
    if (rc == SGS_OK) {
        size_t k = 0;
        for (size_t i = 0; i < c->n_rows; i++)
            if (c->referrer_id[i] != -1) {
                asks[k] = (id_row_t){c->referrer_id[i], row[i]};
                dest[k++] = sgs_dist_owner_of(o, c->referrer_id[i]);
            }
        /* grouped by destination, in row order within each */
        id_row_t *sorted = sgs_alloc_array(m ? m : 1, sizeof *sorted);
        size_t *at = calloc(size, sizeof *at);
        rc = sgs_dist_agree(d, sorted && at ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory"),
                            err);
        if (rc == SGS_OK) {
            for (size_t j = 0; j < m; j++)
                bytes[dest[j]] += sizeof *asks;
            for (size_t p = 1; p < size; p++)
                at[p] = at[p - 1] + bytes[p - 1] / sizeof *asks;
            for (size_t j = 0; j < m; j++)
                sorted[at[dest[j]]++] = asks[j];
            rc = sgs_dist_exchange(d, sorted, bytes, (void **)&got, recv_bytes, err);
        }
        sgs_free(sorted);
        free(at);
    }
    int64_t first = INT64_MAX, bad = 0;
    if (rc == SGS_OK) {
        size_t n_got = 0, n_pairs = c->n_rows;
        for (size_t p = 0; p < size; p++)
            n_got += recv_bytes[p] / sizeof *got;
        for (size_t j = 0; j < n_got; j++) {
            /* is got[j].id one of this process's customers? a binary search in the pairs */
            size_t lo = 0, hi = n_pairs;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pairs[mid].id < got[j].id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if ((lo == n_pairs || pairs[lo].id != got[j].id) && got[j].row < first) {
                first = got[j].row;
                bad = got[j].id;
            }
        }
        int mine = first == INT64_MAX
                       ? SGS_OK
                       : sgs_error_set(err, SGS_EDATA,
                                       "%s: /customers/referrer_id: row %lld: referrer_id %lld is "
                                       "not a customer_id of /customers (use -1 for nobody)",
                                       path, (long long)first, (long long)bad);
        rc = report_earliest(d, first, mine, err);
    }
    sgs_free(got);
    sgs_free(asks);
    sgs_free(dest);
    free(bytes);
    free(recv_bytes);
    return rc;
}

int sgs_dist_read_customers(const sgs_dist_t *d, const char *path, const sgs_read_options_t *opt,
                            const sgs_dist_owners_t *owners, sgs_customers_t *out, int *present,
                            sgs_error_t *err)
{
    sgs_read_options_t share = share_of(d, opt);
    int rc = sgs_h5_read_customers_opt(path, &share, out, present, err);
    rc = sgs_dist_agree(d, rc, err);
    if (rc || !*present)
        return rc;
    /* the rows move with their file row, for the messages */
    int64_t *row = sgs_alloc_array(out->n_rows ? out->n_rows : 1, sizeof *row);
    int *dest = owners_of_rows(owners, out->customer_id, out->n_rows);
    rc = row && dest ? SGS_OK
                     : sgs_error_set(err, SGS_ENOMEM, "no memory for %zu rows", out->n_rows);
    rc = sgs_dist_agree(d, rc, err);
    if (rc == SGS_OK) {
        for (size_t i = 0; i < out->n_rows; i++)
            row[i] = (int64_t)(out->first_file_row + i);
        row_layout_t l = {0};
        void *cols[5] = {out->customer_id, row};
        layout_add(&l, sizeof *out->customer_id);
        layout_add(&l, sizeof *row);
        size_t k = 2;
        int has_signup = out->signup_time_s != NULL, has_ref = out->referrer_id != NULL,
            has_channel = out->preferred_channel != NULL;
        if (has_signup) {
            layout_add(&l, sizeof *out->signup_time_s);
            cols[k++] = out->signup_time_s;
        }
        if (has_ref) {
            layout_add(&l, sizeof *out->referrer_id);
            cols[k++] = out->referrer_id;
        }
        if (has_channel) {
            layout_add(&l, sizeof *out->preferred_channel);
            cols[k++] = out->preferred_channel;
        }
        rc = move_rows(d, &l, cols, &out->n_rows, dest, err);
        out->customer_id = cols[0];
        row = cols[1];
        k = 2;
        out->signup_time_s = has_signup ? cols[k++] : NULL;
        out->referrer_id = has_ref ? cols[k++] : NULL;
        out->preferred_channel = has_channel ? cols[k++] : NULL;
        out->first_file_row = 0;
    }
    sgs_free(dest);
    id_row_t *pairs = NULL;
    if (rc == SGS_OK) {
        pairs = sgs_alloc_array(out->n_rows ? out->n_rows : 1, sizeof *pairs);
        rc = sgs_dist_agree(
            d, pairs ? SGS_OK : sgs_error_set(err, SGS_ENOMEM, "no memory for the customer ids"),
            err);
    }
    if (rc == SGS_OK) {
        for (size_t i = 0; i < out->n_rows; i++)
            pairs[i] = (id_row_t){out->customer_id[i], row[i]};
        qsort(pairs, out->n_rows, sizeof *pairs, compare_id_row);
        rc = check_duplicates(d, path, pairs, out->n_rows, err);
    }
    if (rc == SGS_OK && out->referrer_id) /* a column of the file: the same on every process */
        rc = check_referrers(d, owners, path, out, row, pairs, err);
    sgs_free(pairs);
    sgs_free(row);
    if (rc) {
        sgs_customers_free(out);
        *present = 0;
    }
    return rc;
}
