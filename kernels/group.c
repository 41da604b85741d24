/*
 * kernels/group.c — rows into customer order (sgs_group_rows, kernels/group.h).
 *
 * A stable two-pass counting scatter (below): rows are cut into one contiguous range per
 * thread, each range writes its rows in file order through its own cursors, so the result
 * is the stable order whatever the number of ranges; each bucket of customers is then put
 * in (customer, day) order in cache. The input columns are reused for the output.
 */
#include "kernels/group.h"

#include <omp.h>
#include <string.h>

#define MAX_RANGES 8
#define INSERTION_SORT_MAX 64

void sgs_grouped_free(sgs_grouped_t *g)
{
    if (!g)
        return;
    sgs_free(g->customer_id);
    sgs_free(g->row_offset);
    sgs_free(g->day);
    sgs_free(g->amount);
    sgs_free(g->channel);
    memset(g, 0, sizeof *g);
}

/* Rows looked at alone before the whole check: scattered input (events come in time order,
 * not customer order) is told apart within its first rows instead of a pass over all. */
#define ORDER_CHECK_PREFIX_ROWS 4096

/* 1 when rows i - 1 and i are in (customer, time) order. */
static inline int pair_in_order(const uint32_t *row_customer, const int64_t *time_s, size_t i)
{
    return row_customer[i - 1] < row_customer[i] ||
           (row_customer[i - 1] == row_customer[i] && time_s[i - 1] <= time_s[i]);
}

/* 1 when rows are in (customer, time) order. Integer reduction: exact. */
static int rows_in_order(int n_threads, size_t n_rows, const uint32_t *row_customer,
                         const int64_t *time_s)
{
    size_t prefix = n_rows < ORDER_CHECK_PREFIX_ROWS ? n_rows : ORDER_CHECK_PREFIX_ROWS;
    for (size_t i = 1; i < prefix; i++)
        if (!pair_in_order(row_customer, time_s, i))
            return 0;
    size_t n_out_of_order = 0;
    size_t first = prefix > 1 ? prefix : 1;
#pragma omp parallel for num_threads(n_threads) reduction(+ : n_out_of_order)
    for (size_t i = first; i < n_rows; i++)
        n_out_of_order += !pair_in_order(row_customer, time_s, i);
    return n_out_of_order == 0;
}

/* ---- Stable sort of one customer's rows by day ----------------------------------------- */

typedef struct row_view {
    int32_t *day;
    double *amount;
    uint8_t *channel; /* may be NULL */
} row_view_t;

static void insertion_sort_by_day(row_view_t v, size_t lo, size_t hi)
{
    for (size_t i = lo + 1; i < hi; i++) {
        int32_t d = v.day[i];
        double a = v.amount[i];
        uint8_t c = v.channel ? v.channel[i] : 0;
        size_t j = i;
        for (; j > lo && v.day[j - 1] > d; j--) {
            v.day[j] = v.day[j - 1];
            v.amount[j] = v.amount[j - 1];
            if (v.channel)
                v.channel[j] = v.channel[j - 1];
        }
        v.day[j] = d;
        v.amount[j] = a;
        if (v.channel)
            v.channel[j] = c;
    }
}

/* Bottom-up stable merge sort of rows lo..hi-1 through scratch (hi - lo rows). */
static void merge_sort_by_day(row_view_t v, row_view_t scratch, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    for (size_t s = lo; s < hi; s += INSERTION_SORT_MAX) /* sorted runs to merge */
        insertion_sort_by_day(v, s, s + INSERTION_SORT_MAX < hi ? s + INSERTION_SORT_MAX : hi);
    row_view_t from = v, to = scratch;
    size_t from_base = lo, to_base = 0;
    for (size_t width = INSERTION_SORT_MAX; width < n; width *= 2) {
        for (size_t start = 0; start < n; start += 2 * width) {
            size_t mid = start + width < n ? start + width : n;
            size_t end = start + 2 * width < n ? start + 2 * width : n;
            size_t i = start, j = mid, k = start;
            while (k < end) {
                size_t src =
                    (i < mid && (j >= end || from.day[from_base + i] <= from.day[from_base + j]))
                        ? i++
                        : j++;
                to.day[to_base + k] = from.day[from_base + src];
                to.amount[to_base + k] = from.amount[from_base + src];
                if (v.channel)
                    to.channel[to_base + k] = from.channel[from_base + src];
                k++;
            }
        }
        row_view_t t = from;
        from = to;
        to = t;
        size_t tb = from_base;
        from_base = to_base;
        to_base = tb;
    }
    if (from.day != v.day) { /* result sits in scratch: copy back */
        memcpy(v.day + lo, from.day, n * sizeof *v.day);
        memcpy(v.amount + lo, from.amount, n * sizeof *v.amount);
        if (v.channel)
            memcpy(v.channel + lo, from.channel, n);
    }
}

/* 1 when day[lo..hi) ascends. */
static int in_day_order(const int32_t *day, size_t lo, size_t hi)
{
    for (size_t i = lo + 1; i < hi; i++)
        if (day[i - 1] > day[i])
            return 0;
    return 1;
}

/* Put every customer's rows in day order. Scratch per thread, sized by the longest
 * customer, allocated only when some customer with more than INSERTION_SORT_MAX rows is
 * out of order. */
static int sort_each_customer_by_day(int n_threads, sgs_grouped_t *g)
{
    row_view_t v = {g->day, g->amount, g->channel};
    size_t longest_unsorted = 0;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 4096)                            \
    reduction(max                                                                                  \
              : longest_unsorted)
    for (size_t c = 0; c < g->n_customers; c++) {
        size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
        if (in_day_order(g->day, lo, hi))
            continue;
        if (hi - lo <= INSERTION_SORT_MAX)
            insertion_sort_by_day(v, lo, hi);
        else if (hi - lo > longest_unsorted)
            longest_unsorted = hi - lo;
    }
    if (longest_unsorted == 0)
        return SGS_OK;

    /* Per thread: amounts, then days, then channels; the stride keeps every thread's
     * amounts 8-byte aligned. */
    size_t stride = (longest_unsorted * (sizeof(double) + sizeof(int32_t) + 1) + 15) & ~(size_t)15;
    uint8_t *scratch = sgs_alloc_array((size_t)n_threads, stride);
    if (!scratch)
        return SGS_ENOMEM;
#pragma omp parallel num_threads(n_threads)
    {
        uint8_t *mine = scratch + (size_t)omp_get_thread_num() * stride;
        row_view_t s = {
            (int32_t *)(void *)(mine + longest_unsorted * sizeof(double)), (double *)(void *)mine,
            g->channel ? mine + longest_unsorted * (sizeof(double) + sizeof(int32_t)) : NULL};
#pragma omp for schedule(dynamic, 64)
        for (size_t c = 0; c < g->n_customers; c++) {
            size_t lo = g->row_offset[c], hi = g->row_offset[c + 1];
            if (hi - lo > INSERTION_SORT_MAX)
                merge_sort_by_day(v, s, lo, hi);
        }
    }
    sgs_free(scratch);
    return SGS_OK;
}

/* ---- Scatter ------------------------------------------------------------------------------ */

/* Rows already in order: the offsets from the customer indices, then each row's day
 * written over its customer index (a separate pass: a row's neighbour must still hold
 * its customer index when the offsets are found). */
static void group_in_place(int n_threads, sgs_row_columns_t *rows, sgs_grouped_t *g)
{
    size_t n_rows = rows->n_rows;
    const uint32_t *row_customer = rows->row_customer;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n_rows; i++)
        if (i == 0 || row_customer[i] != row_customer[i - 1])
            g->row_offset[row_customer[i]] = i;
    g->row_offset[g->n_customers] = n_rows;
    int32_t *day = (int32_t *)(void *)rows->row_customer;
    const int64_t *time_s = rows->time_s;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (size_t i = 0; i < n_rows; i++)
        day[i] = (int32_t)sgs_day_of(time_s[i]);
    g->day = day;
    g->amount = rows->amount;
    g->channel = rows->channel;
    rows->row_customer = NULL;
    rows->amount = NULL;
    rows->channel = NULL;
}

/* ---- Two-pass scatter ----------------------------------------------------------------------
 * Scattering rows straight to their customers costs two cache misses per row once the
 * customers outnumber the cache. Instead: pass 1 moves rows into buckets of
 * CUSTOMERS_PER_BUCKET consecutive customers (few, sequentially written streams); pass 2
 * sorts each bucket by customer with a counting sort whose counters and output range fit
 * in cache. Both passes are stable, so the result is the stable order whatever the
 * number of threads. */

/* 4,096 gave 2,400 buckets at 10 M customers: as many write streams per range in pass 1,
 * more than the caches and the TLB hold, and a miss per row; 16,384 measured cheaper in both
 * passes together (a 10 M run's event rows: 0.9 -> 0.7 s of CPU). A bucket's rows (about 4
 * a customer there) stay within the last-level cache in pass 2. */
#define CUSTOMERS_PER_BUCKET 16384

/* A row between the passes, as two columns (the amount, and this key), so that the
 * caller's spare 8-byte column can hold one of them: the day, and the customer's offset
 * within its bucket (high 24 bits) with the channel (low 8 bits). */
typedef struct packed_key {
    int32_t day;
    uint32_t local_and_channel;
} packed_key_t;

/* Per thread scratch of the in-bucket sort: a counter per day of the bucket's span, and
 * the bucket's rows in day order. Buckets with a wider span of days or more rows take the
 * insertion sort after the counting sort instead. The row limit allows 64 rows per customer
 * on average (4 MiB of scratch a thread). */
#define BUCKET_DAY_SPAN_MAX ((size_t)1 << 16)
#define BUCKET_ROWS_MAX (64 * (size_t)CUSTOMERS_PER_BUCKET)

typedef struct bucket_scratch {
    uint32_t day_count[BUCKET_DAY_SPAN_MAX];
    uint32_t by_day[BUCKET_ROWS_MAX];
} bucket_scratch_t;

/* Write packed row (key, amount) to output row p. */
static inline void put_row(sgs_grouped_t *g, size_t p, packed_key_t key, double amount)
{
    g->day[p] = key.day;
    g->amount[p] = amount;
    if (g->channel)
        g->channel[p] = (uint8_t)(key.local_and_channel & 0xFF);
}

/* One bucket into the columns, in (customer, day, file) order: a counting sort by day,
 * then a stable counting sort by customer, both in cache and without branches that depend
 * on the data (a per-customer insertion sort mispredicts on almost every row). Returns the
 * row count of the longest customer left out of order (the fallback: more rows than the
 * insertion sort takes), 0 when none. */
static size_t bucket_to_columns(const packed_key_t *keys, const double *amounts, size_t n,
                                size_t first_row, size_t first_customer, size_t n_customers,
                                bucket_scratch_t *scratch, sgs_grouped_t *g)
{
    uint32_t count[CUSTOMERS_PER_BUCKET] = {0};
    int32_t day_min = INT32_MAX, day_max = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        count[keys[i].local_and_channel >> 8]++;
        day_min = keys[i].day < day_min ? keys[i].day : day_min;
        day_max = keys[i].day > day_max ? keys[i].day : day_max;
    }
    size_t next = first_row;
    for (size_t j = 0; j < n_customers; j++) {
        g->row_offset[first_customer + j] = next;
        size_t c = count[j];
        count[j] = (uint32_t)(next - first_row);
        next += c;
    }
    size_t span = n > 0 ? (size_t)((int64_t)day_max - day_min) + 1 : 0;
    if (n > 0 && span <= BUCKET_DAY_SPAN_MAX && n <= BUCKET_ROWS_MAX) {
        uint32_t *day_count = scratch->day_count, *by_day = scratch->by_day;
        memset(day_count, 0, span * sizeof *day_count);
        for (size_t i = 0; i < n; i++)
            day_count[keys[i].day - day_min]++;
        uint32_t below = 0;
        for (size_t d = 0; d < span; d++) {
            uint32_t c = day_count[d];
            day_count[d] = below;
            below += c;
        }
        for (size_t i = 0; i < n; i++)
            by_day[day_count[keys[i].day - day_min]++] = (uint32_t)i;
        for (size_t k = 0; k < n; k++) {
            size_t i = by_day[k];
            put_row(g, first_row + count[keys[i].local_and_channel >> 8]++, keys[i], amounts[i]);
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        put_row(g, first_row + count[keys[i].local_and_channel >> 8]++, keys[i], amounts[i]);
    row_view_t v = {g->day, g->amount, g->channel};
    size_t longest_unsorted = 0;
    for (size_t j = 0; j < n_customers; j++) {
        size_t lo = g->row_offset[first_customer + j];
        size_t hi = j + 1 < n_customers ? g->row_offset[first_customer + j + 1] : first_row + n;
        if (!in_day_order(g->day, lo, hi)) {
            if (hi - lo <= INSERTION_SORT_MAX)
                insertion_sort_by_day(v, lo, hi);
            else if (hi - lo > longest_unsorted)
                longest_unsorted = hi - lo;
        }
    }
    return longest_unsorted;
}

void sgs_bucket_cursors(size_t n_ranges, size_t n_buckets, size_t *cursor, size_t *bucket_start)
{
    size_t next = 0;
    for (size_t b = 0; b < n_buckets; b++) {
        bucket_start[b] = next;
        for (size_t q = 0; q < n_ranges; q++) {
            size_t count = cursor[q * n_buckets + b];
            cursor[q * n_buckets + b] = next;
            next += count;
        }
    }
    bucket_start[n_buckets] = next;
}

/* Pass 1 reads the input columns into the packed columns (the amounts in the caller's
 * spare column when there is one); pass 2 writes the output columns over the input columns
 * pass 1 has finished with (days over the customer indices, amounts over the times,
 * channels over the channels). */
static int scatter_stable(int n_threads, sgs_row_columns_t *rows, sgs_grouped_t *g,
                          size_t *longest_unsorted)
{
    size_t n_rows = rows->n_rows;
    size_t longest = 0;
    size_t n_ranges = (size_t)(n_threads < MAX_RANGES ? n_threads : MAX_RANGES);
    size_t n_cust = g->n_customers;
    size_t n_buckets = (n_cust + CUSTOMERS_PER_BUCKET - 1) / CUSTOMERS_PER_BUCKET;
    size_t *cursor = sgs_calloc_array(n_ranges * n_buckets, sizeof *cursor); /* [range][bucket] */
    size_t *bucket_start = sgs_alloc_array(n_buckets + 1, sizeof *bucket_start);
    packed_key_t *keys = sgs_alloc_array(n_rows, sizeof *keys);
    double *amounts = rows->spare ? rows->spare : sgs_alloc_array(n_rows, sizeof *amounts);
    bucket_scratch_t *scratch = sgs_alloc_array(n_ranges, sizeof *scratch);
    rows->spare = NULL;
    if (!cursor || !bucket_start || !keys || !amounts || !scratch) {
        sgs_free(cursor);
        sgs_free(bucket_start);
        sgs_free(keys);
        sgs_free(amounts);
        sgs_free(scratch);
        return SGS_ENOMEM;
    }
    const uint32_t *row_customer = rows->row_customer;
    const int64_t *time_s = rows->time_s;
    const double *amount = rows->amount;
    const uint8_t *channel = rows->channel;

    /* Ranges are taken round-robin by whatever threads OpenMP gives us. */
#pragma omp parallel num_threads((int)n_ranges)
    {
        size_t tid = (size_t)omp_get_thread_num(), step = (size_t)omp_get_num_threads();
        for (size_t r = tid; r < n_ranges; r += step) {
            size_t *mine = cursor + r * n_buckets;
            for (size_t i = n_rows * r / n_ranges; i < n_rows * (r + 1) / n_ranges; i++)
                mine[row_customer[i] / CUSTOMERS_PER_BUCKET]++;
        }
#pragma omp barrier
#pragma omp single
        {
            sgs_bucket_cursors(n_ranges, n_buckets, cursor, bucket_start);
        }
        for (size_t r = tid; r < n_ranges; r += step) {
            size_t *mine = cursor + r * n_buckets;
            for (size_t i = n_rows * r / n_ranges; i < n_rows * (r + 1) / n_ranges; i++) {
                uint32_t c = row_customer[i];
                size_t p = mine[c / CUSTOMERS_PER_BUCKET]++;
                amounts[p] = amount[i];
                keys[p].day = (int32_t)sgs_day_of(time_s[i]);
                keys[p].local_and_channel =
                    ((c % CUSTOMERS_PER_BUCKET) << 8) | (channel ? channel[i] : 0u);
            }
        }
#pragma omp barrier
#pragma omp single
        {
            g->day = (int32_t *)(void *)rows->row_customer;
            g->amount = (double *)(void *)rows->time_s;
            g->channel = rows->channel;
            rows->row_customer = NULL;
            rows->time_s = NULL;
            rows->channel = NULL;
        }
#pragma omp for schedule(dynamic, 1) reduction(max : longest)
        for (size_t b = 0; b < n_buckets; b++) {
            size_t first_customer = b * CUSTOMERS_PER_BUCKET;
            size_t n_in_bucket = n_cust - first_customer < CUSTOMERS_PER_BUCKET
                                     ? n_cust - first_customer
                                     : CUSTOMERS_PER_BUCKET;
            size_t lo = bucket_start[b];
            size_t l =
                bucket_to_columns(keys + lo, amounts + lo, bucket_start[b + 1] - lo, lo,
                                  first_customer, n_in_bucket, &scratch[omp_get_thread_num()], g);
            longest = l > longest ? l : longest;
        }
    }
    g->row_offset[n_cust] = n_rows;
    *longest_unsorted = longest;
    sgs_free(cursor);
    sgs_free(bucket_start);
    sgs_free(keys);
    sgs_free(amounts);
    sgs_free(scratch);
    return SGS_OK;
}

/* Free whatever the row columns still hold, and zero them. */
static void release_rows(sgs_row_columns_t *rows)
{
    sgs_free(rows->row_customer);
    sgs_free(rows->time_s);
    sgs_free(rows->amount);
    sgs_free(rows->channel);
    sgs_free(rows->spare);
    memset(rows, 0, sizeof *rows);
}

int sgs_group_rows(const sgs_exec_t *exec, sgs_row_columns_t *rows, int order, int64_t *ids,
                   size_t n_customers, sgs_grouped_t *out, int *sorted_input_skipped,
                   sgs_error_t *err)
{
    memset(out, 0, sizeof *out);
    size_t n_rows = rows->n_rows;
    int rc = SGS_OK;
    if (n_rows == 0 || n_customers == 0) {
        rc = SGS_EINVAL;
        goto cleanup;
    }
    int n_threads = sgs_exec_threads(exec);
    out->n_customers = n_customers;
    out->n_rows = n_rows;
    out->row_offset = sgs_alloc_array(n_customers + 1, sizeof *out->row_offset);
    if (!out->row_offset) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    if (order == SGS_ORDER_UNKNOWN)
        order = rows_in_order(n_threads, n_rows, rows->row_customer, rows->time_s)
                    ? SGS_ORDER_SORTED
                    : SGS_ORDER_SCATTERED;
    *sorted_input_skipped = order == SGS_ORDER_SORTED;
    if (order == SGS_ORDER_SORTED) {
        group_in_place(n_threads, rows, out);
    } else {
        size_t longest_unsorted = 0; /* customers too long for the in-bucket sort */
        rc = scatter_stable(n_threads, rows, out, &longest_unsorted);
        if (rc == SGS_OK && longest_unsorted > 0)
            rc = sort_each_customer_by_day(n_threads, out);
    }
cleanup:
    release_rows(rows);
    if (rc != SGS_OK) {
        sgs_grouped_free(out);
        if (rc == SGS_EINVAL)
            return sgs_error_set(err, rc, "grouping: no rows");
        return sgs_error_set(err, rc, "grouping %zu rows of %zu customers: %s", n_rows, n_customers,
                             sgs_strerror(rc));
    }
    out->customer_id = ids;
    return SGS_OK;
}
