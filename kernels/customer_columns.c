/*
 * kernels/customer_columns.c — see customer_columns.h.
 *
 * Rows come in any order and the index's columns are larger than the cache, so writing each
 * row straight to its entry costs a cache and TLB miss per row and column. Instead (as the
 * grouping does, kernels/group.c): pass 1 finds each row's entry and counts rows per bucket
 * of ENTRIES_PER_BUCKET consecutive entries, per range of rows; pass 2 copies each row's
 * values to its bucket's next slot (one sequential stream a bucket); pass 3 writes each bucket's
 * slots, in slot order, to entries that all lie in one cache-sized span. Ranges are laid
 * end to end within each bucket, so the slots keep row order: stable, whatever the threads.
 */
#include "kernels/customer_columns.h"

#include "kernels/dates.h"
#include "kernels/group.h"

#include <omp.h>

/* A bucket's entries span at most 13 bytes each of the columns, 416 KB: within a core's L2.
 * Few buckets keep pass 2's write streams (one a bucket and range) few. */
#define ENTRIES_PER_BUCKET 32768
#define MAX_RANGES 8
#define LOOKUP_AHEAD 64 /* rows between the prefetch of an entry lookup and its use */

void sgs_customer_columns_scatter_ref(const sgs_customer_rows_t *rows, sgs_customer_columns_t *out)
{
    for (size_t r = 0; r < rows->n_rows; r++) {
        size_t u = (size_t)rows->b_to_u[rows->crow[r]];
        if (out->signup_day)
            out->signup_day[u] = (int32_t)sgs_day_of(rows->signup_time_s[r]);
        if (out->preferred_channel)
            out->preferred_channel[u] = rows->preferred_channel[r];
        if (out->referrer_id)
            out->referrer_id[u] = rows->referrer_id[r];
    }
}

/* A row in its bucket: its entry and its values (0 for the columns absent). */
typedef struct slot {
    int64_t referrer;
    uint32_t entry;
    int32_t day;
    uint8_t channel;
} slot_t;

int sgs_customer_columns_scatter(const sgs_exec_t *exec, const sgs_customer_rows_t *rows,
                                 sgs_customer_columns_t *out, sgs_error_t *err)
{
    const size_t n_rows = rows->n_rows, n = out->n;
    int32_t *signup = out->signup_day;
    uint8_t *preferred = out->preferred_channel;
    int64_t *referrer = out->referrer_id;
    if (n_rows == 0 || (!signup && !preferred && !referrer))
        return SGS_OK;
    if (n > UINT32_MAX) { /* entries kept in 32 bits: the plain loop beyond */
        sgs_customer_columns_scatter_ref(rows, out);
        return SGS_OK;
    }
    const int n_threads = sgs_exec_threads_for(exec, n_rows);
    const size_t n_ranges = (size_t)(n_threads < MAX_RANGES ? n_threads : MAX_RANGES);
    const size_t n_buckets = (n + ENTRIES_PER_BUCKET - 1) / ENTRIES_PER_BUCKET;
    size_t *cursor = sgs_calloc_array(n_ranges * n_buckets, sizeof *cursor); /* [range][bucket] */
    size_t *bucket_start = sgs_alloc_array(n_buckets + 1, sizeof *bucket_start);
    uint32_t *entry = sgs_alloc_array(n_rows, sizeof *entry); /* of each row, from pass 1 */
    slot_t *slot = sgs_alloc_array(n_rows, sizeof *slot);
    if (!cursor || !bucket_start || !entry || !slot) {
        sgs_free(cursor);
        sgs_free(bucket_start);
        sgs_free(entry);
        sgs_free(slot);
        return sgs_error_set(err, SGS_ENOMEM, "customer columns: no memory for %zu rows", n_rows);
    }
    const uint32_t *crow = rows->crow;
    const int64_t *b_to_u = rows->b_to_u;

#pragma omp parallel num_threads((int)n_ranges)
    {
        size_t tid = (size_t)omp_get_thread_num(), step = (size_t)omp_get_num_threads();
        for (size_t q = tid; q < n_ranges; q += step) { /* pass 1 */
            size_t *mine = cursor + q * n_buckets;
            size_t lo = n_rows * q / n_ranges, hi = n_rows * (q + 1) / n_ranges;
            for (size_t r = lo; r < hi; r++) {
                if (r + LOOKUP_AHEAD < hi)
                    __builtin_prefetch(&b_to_u[crow[r + LOOKUP_AHEAD]]);
                uint32_t u = (uint32_t)b_to_u[crow[r]];
                entry[r] = u;
                mine[u / ENTRIES_PER_BUCKET]++;
            }
        }
#pragma omp barrier
#pragma omp single
        {
            sgs_bucket_cursors(n_ranges, n_buckets, cursor, bucket_start);
        }
        for (size_t q = tid; q < n_ranges; q += step) { /* pass 2 */
            size_t *mine = cursor + q * n_buckets;
            size_t lo = n_rows * q / n_ranges, hi = n_rows * (q + 1) / n_ranges;
            for (size_t r = lo; r < hi; r++) {
                uint32_t u = entry[r];
                slot_t *t = &slot[mine[u / ENTRIES_PER_BUCKET]++];
                t->entry = u;
                t->day = signup ? (int32_t)sgs_day_of(rows->signup_time_s[r]) : 0;
                t->channel = preferred ? rows->preferred_channel[r] : 0;
                t->referrer = referrer ? rows->referrer_id[r] : 0;
            }
        }
#pragma omp barrier
#pragma omp for schedule(dynamic, 16)
        for (size_t b = 0; b < n_buckets; b++) /* pass 3 */
            for (size_t p = bucket_start[b]; p < bucket_start[b + 1]; p++) {
                const slot_t *t = &slot[p];
                if (signup)
                    signup[t->entry] = t->day;
                if (preferred)
                    preferred[t->entry] = t->channel;
                if (referrer)
                    referrer[t->entry] = t->referrer;
            }
    }
    sgs_free(cursor);
    sgs_free(bucket_start);
    sgs_free(entry);
    sgs_free(slot);
    return SGS_OK;
}
