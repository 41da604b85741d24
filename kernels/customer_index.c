/*
 * kernels/customer_index.c — distinct customer ids and the dense index of each row
 * (sgs_customer_index_build, kernels/group.h).
 *
 * Two paths, one result:
 *   - bitmap, when the ids span at most 8 bits per row: one bit per possible id, set in
 *     parallel (a bitmap per thread's rows, then OR-ed); the rank of an id is the popcount of the
 * bits before it. Real customer ids are usually allocated densely, and this is a few passes over
 * memory.
 *   - sample sort, for any other ids: rows are split by id value into 256 partitions with
 *     bounds taken from a sample, each partition is radix-sorted (in parallel), and ranks
 *     follow from the distinct ids per partition laid end to end.
 */
#include "kernels/group.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BITMAP_BITS_PER_ROW 8

/* ---- Rank by popcount ------------------------------------------------------------------
 * The portable build targets baseline x86-64, where __builtin_popcountll is a call into
 * libgcc (a table walk per word). The loops that rank rows and count words are compiled
 * twice, once for CPUs with the POPCNT instruction (chosen at run time, as the k-means
 * distances choose AVX2: kernels/kmeans_dist.c); both count the same bits. */

#if defined(__x86_64__) && defined(__GNUC__)
#define SGS__POPCNT_DISPATCH 1
#endif

#define ROWS_PER_RANK_BLOCK 65536

/* row_customer[i] for rows [lo, hi): the number of ids set in the bitmap below the row's. */
static inline __attribute__((always_inline)) void
rank_rows_body(const int64_t *customer_id, size_t lo, size_t hi, int64_t min_id,
               const uint64_t *bits, const uint32_t *rank_base, uint32_t *row_customer)
{
    for (size_t i = lo; i < hi; i++) {
        uint64_t offset = (uint64_t)customer_id[i] - (uint64_t)min_id;
        uint64_t below = bits[offset >> 6] & ((UINT64_C(1) << (offset & 63)) - 1);
        row_customer[i] = rank_base[offset >> 6] + (uint32_t)__builtin_popcountll(below);
    }
}

/* Exclusive prefix popcount of words [0, n_words) into rank_base; returns the total, or
 * stops (returning more than UINT32_MAX) once the total passes UINT32_MAX. */
static inline __attribute__((always_inline)) uint64_t
rank_base_body(const uint64_t *bits, size_t n_words, uint32_t *rank_base)
{
    uint64_t total = 0;
    for (size_t w = 0; w < n_words; w++) {
        rank_base[w] = (uint32_t)total;
        total += (uint64_t)__builtin_popcountll(bits[w]);
        if (total > UINT32_MAX)
            return total;
    }
    return total;
}

#ifdef SGS__POPCNT_DISPATCH
__attribute__((target("popcnt"))) static void
rank_rows_popcnt(const int64_t *customer_id, size_t lo, size_t hi, int64_t min_id,
                 const uint64_t *bits, const uint32_t *rank_base, uint32_t *row_customer)
{
    rank_rows_body(customer_id, lo, hi, min_id, bits, rank_base, row_customer);
}

__attribute__((target("popcnt"))) static uint64_t
rank_base_popcnt(const uint64_t *bits, size_t n_words, uint32_t *rank_base)
{
    return rank_base_body(bits, n_words, rank_base);
}
#endif

/* 1 when this CPU has POPCNT. */
static int have_popcnt(void)
{
#ifdef SGS__POPCNT_DISPATCH
    return __builtin_cpu_supports("popcnt");
#else
    return 0;
#endif
}

static void rank_rows(int popcnt, const int64_t *customer_id, size_t lo, size_t hi, int64_t min_id,
                      const uint64_t *bits, const uint32_t *rank_base, uint32_t *row_customer)
{
#ifdef SGS__POPCNT_DISPATCH
    if (popcnt) {
        rank_rows_popcnt(customer_id, lo, hi, min_id, bits, rank_base, row_customer);
        return;
    }
#endif
    (void)popcnt;
    rank_rows_body(customer_id, lo, hi, min_id, bits, rank_base, row_customer);
}

static uint64_t rank_base_fill(int popcnt, const uint64_t *bits, size_t n_words,
                               uint32_t *rank_base)
{
#ifdef SGS__POPCNT_DISPATCH
    if (popcnt)
        return rank_base_popcnt(bits, n_words, rank_base);
#endif
    (void)popcnt;
    return rank_base_body(bits, n_words, rank_base);
}

/* ---- Bitmap path ----------------------------------------------------------------------- */

static int build_with_bitmap(int n_threads, const int64_t *customer_id, size_t n_rows,
                             int64_t min_id, uint64_t range, uint32_t *row_customer,
                             int64_t **ids_out, size_t *n_customers, sgs_error_t *err)
{
    size_t n_words = (size_t)((range + 63) / 64);
    /* One bitmap per range of rows, OR-ed together afterwards: plain stores instead of an
     * atomic read-modify-write per row. At most 4 bytes per row go to the bitmaps. */
    size_t n_parts = (size_t)n_threads;
    if (n_parts > 1 && n_parts * n_words * sizeof(uint64_t) > 4 * n_rows)
        n_parts = 4 * n_rows / (n_words * sizeof(uint64_t)) > 1
                      ? 4 * n_rows / (n_words * sizeof(uint64_t))
                      : 1;
    uint64_t *bits = sgs_calloc_array(n_parts * n_words, sizeof *bits);
    uint32_t *rank_base = sgs_alloc_array(n_words + 1, sizeof *rank_base);
    int64_t *ids = NULL;
    int rc = SGS_OK;
    if (!bits || !rank_base) {
        rc =
            sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for a %zu-word id bitmap", n_words);
        goto cleanup;
    }

#pragma omp parallel num_threads(n_threads)
    {
        size_t tid = (size_t)omp_get_thread_num(), step = (size_t)omp_get_num_threads();
        for (size_t p = tid; p < n_parts; p += step) {
            uint64_t *mine = bits + p * n_words;
            for (size_t i = n_rows * p / n_parts; i < n_rows * (p + 1) / n_parts; i++) {
                uint64_t offset = (uint64_t)customer_id[i] - (uint64_t)min_id;
                mine[offset >> 6] |= UINT64_C(1) << (offset & 63);
            }
        }
#pragma omp barrier
#pragma omp for schedule(static)
        for (size_t w = 0; w < n_words; w++)
            for (size_t p = 1; p < n_parts; p++)
                bits[w] |= bits[p * n_words + w];
    }

    /* Exclusive prefix popcount: serial, one add per 64 possible ids. */
    const int popcnt = have_popcnt();
    uint64_t total = rank_base_fill(popcnt, bits, n_words, rank_base);
    if (total > UINT32_MAX) {
        rc =
            sgs_error_set(err, SGS_EINVAL, "grouping: more than %u distinct customers", UINT32_MAX);
        goto cleanup;
    }
    rank_base[n_words] = (uint32_t)total;

    ids = sgs_alloc_array((size_t)total, sizeof *ids);
    if (!ids) {
        rc = sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for %zu customer ids",
                           (size_t)total);
        goto cleanup;
    }
#pragma omp parallel num_threads(n_threads)
    {
        const size_t n_blocks = (n_rows + ROWS_PER_RANK_BLOCK - 1) / ROWS_PER_RANK_BLOCK;
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_blocks; k++) {
            size_t lo = k * ROWS_PER_RANK_BLOCK;
            size_t hi = n_rows - lo < ROWS_PER_RANK_BLOCK ? n_rows : lo + ROWS_PER_RANK_BLOCK;
            rank_rows(popcnt, customer_id, lo, hi, min_id, bits, rank_base, row_customer);
        }
#pragma omp for schedule(static)
        for (size_t w = 0; w < n_words; w++) {
            uint64_t word = bits[w];
            uint32_t k = rank_base[w];
            while (word) {
                int b = __builtin_ctzll(word);
                ids[k++] = (int64_t)((uint64_t)min_id + (uint64_t)w * 64 + (uint64_t)b);
                word &= word - 1;
            }
        }
    }
    *ids_out = ids;
    *n_customers = (size_t)total;
    ids = NULL;

cleanup:
    sgs_free(ids);
    sgs_free(bits);
    sgs_free(rank_base);
    return rc;
}

/* ---- Sample-sort path ------------------------------------------------------------------
 * Rows are cut by id value into partitions whose bounds come from a sample of the ids, so
 * that the partitions, sorted one by one (in parallel) and laid end to end, give every id
 * in ascending order. Equal ids always land in one partition. */

#define N_PARTITIONS 256
#define SAMPLES_PER_PARTITION 32

typedef struct id_row {
    int64_t id;
    uint32_t row_low;  /* row index, low 32 bits */
    uint32_t row_high; /* row index, high 32 bits */
} id_row_t;

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Number of bounds strictly below id: the partition of id. */
static size_t partition_of(const int64_t *bounds, size_t n_bounds, int64_t id)
{
    size_t lo = 0, hi = n_bounds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bounds[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Stable LSD radix sort by (id - min_id) with byte digits, through tmp; digits above the
 * largest key are skipped. Returns whichever buffer holds the result. */
static id_row_t *sort_by_id(id_row_t *a, id_row_t *tmp, size_t n)
{
    if (n < 2)
        return a;
    int64_t min_id = a[0].id, max_id = a[0].id;
    for (size_t i = 1; i < n; i++) {
        min_id = a[i].id < min_id ? a[i].id : min_id;
        max_id = a[i].id > max_id ? a[i].id : max_id;
    }
    uint64_t span = (uint64_t)max_id - (uint64_t)min_id;
    id_row_t *from = a, *to = tmp;
    for (int shift = 0; shift < 64 && (span >> shift) != 0; shift += 8) {
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(((uint64_t)from[i].id - (uint64_t)min_id) >> shift) & 0xFF]++;
        size_t next = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = next;
            next += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(((uint64_t)from[i].id - (uint64_t)min_id) >> shift) & 0xFF]++] = from[i];
        id_row_t *t = from;
        from = to;
        to = t;
    }
    return from;
}

static int build_with_sample_sort(int n_threads, const int64_t *customer_id, size_t n_rows,
                                  uint32_t *row_customer, int64_t **ids_out, size_t *n_customers,
                                  sgs_error_t *err)
{
    enum { N_SAMPLES = N_PARTITIONS * SAMPLES_PER_PARTITION };
    int64_t bounds[N_PARTITIONS - 1];
    size_t n_bounds = N_PARTITIONS - 1;
    {
        int64_t sample[N_SAMPLES];
        for (size_t k = 0; k < N_SAMPLES; k++)
            sample[k] = customer_id[(size_t)((double)k * (double)n_rows / N_SAMPLES)];
        qsort(sample, N_SAMPLES, sizeof sample[0], compare_int64);
        for (size_t p = 0; p < n_bounds; p++)
            bounds[p] = sample[(p + 1) * SAMPLES_PER_PARTITION - 1];
    }

    size_t n_ranges = (size_t)n_threads;
    size_t *cursor = sgs_calloc_array(n_ranges * N_PARTITIONS, sizeof *cursor);
    size_t part_begin[N_PARTITIONS + 1];
    size_t distinct_base[N_PARTITIONS + 1];
    id_row_t *pairs = sgs_alloc_array(n_rows, sizeof *pairs);
    uint8_t *row_partition = sgs_alloc_array(n_rows, 1); /* found once, used twice */
    id_row_t *scratch = NULL;                            /* one partition's worth per thread */
    size_t largest = 0;
    int64_t *ids = NULL;
    int rc = SGS_OK;
    if (!cursor || !pairs || !row_partition) {
        rc = sgs_error_set(err, SGS_ENOMEM, "grouping: no memory to sort %zu customer ids", n_rows);
        goto cleanup;
    }

    /* Count rows per (range, partition), then scatter them: stable, thread-independent. */
#pragma omp parallel num_threads(n_threads)
    {
        size_t tid = (size_t)omp_get_thread_num(), step = (size_t)omp_get_num_threads();
        for (size_t r = tid; r < n_ranges; r += step)
            for (size_t i = n_rows * r / n_ranges; i < n_rows * (r + 1) / n_ranges; i++) {
                row_partition[i] = (uint8_t)partition_of(bounds, n_bounds, customer_id[i]);
                cursor[r * N_PARTITIONS + row_partition[i]]++;
            }
#pragma omp barrier
#pragma omp single
        {
            sgs_bucket_cursors(n_ranges, N_PARTITIONS, cursor, part_begin);
        }
        for (size_t r = tid; r < n_ranges; r += step)
            for (size_t i = n_rows * r / n_ranges; i < n_rows * (r + 1) / n_ranges; i++) {
                pairs[cursor[r * N_PARTITIONS + row_partition[i]]++] =
                    (id_row_t){customer_id[i], (uint32_t)i, (uint32_t)((uint64_t)i >> 32)};
            }
    }

    /* Sort each partition in place (through its thread's scratch) and count its ids. */
    for (size_t p = 0; p < N_PARTITIONS; p++)
        if (part_begin[p + 1] - part_begin[p] > largest)
            largest = part_begin[p + 1] - part_begin[p];
    scratch = sgs_alloc_array((size_t)n_threads * largest, sizeof *scratch);
    if (!scratch) {
        rc =
            sgs_error_set(err, SGS_ENOMEM, "grouping: no memory to sort %zu customer ids", largest);
        goto cleanup;
    }
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (size_t p = 0; p < N_PARTITIONS; p++) {
        size_t lo = part_begin[p], n = part_begin[p + 1] - lo;
        id_row_t *part = pairs + lo;
        id_row_t *result = sort_by_id(part, scratch + (size_t)omp_get_thread_num() * largest, n);
        if (result != part)
            memcpy(part, result, n * sizeof *part);
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++)
            distinct += i == 0 || part[i].id != part[i - 1].id;
        distinct_base[p] = distinct;
    }
    size_t total = 0;
    for (size_t p = 0; p < N_PARTITIONS; p++) {
        size_t d = distinct_base[p];
        distinct_base[p] = total;
        total += d;
    }
    if (total > UINT32_MAX) {
        rc =
            sgs_error_set(err, SGS_EINVAL, "grouping: more than %u distinct customers", UINT32_MAX);
        goto cleanup;
    }
    ids = sgs_alloc_array(total, sizeof *ids);
    if (!ids) {
        rc = sgs_error_set(err, SGS_ENOMEM, "grouping: no memory for %zu customer ids", total);
        goto cleanup;
    }
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (size_t p = 0; p < N_PARTITIONS; p++) {
        const id_row_t *part = pairs + part_begin[p];
        size_t n = part_begin[p + 1] - part_begin[p];
        size_t rank = distinct_base[p];
        for (size_t i = 0; i < n; i++) {
            const id_row_t *e = &part[i];
            if (i > 0 && e->id != part[i - 1].id)
                rank++;
            ids[rank] = e->id;
            row_customer[(size_t)e->row_low | ((size_t)e->row_high << 32)] = (uint32_t)rank;
        }
    }
    *ids_out = ids;
    *n_customers = total;
    ids = NULL;

cleanup:
    sgs_free(ids);
    sgs_free(cursor);
    sgs_free(pairs);
    sgs_free(row_partition);
    sgs_free(scratch);
    return rc;
}

/* ---- Entry point ------------------------------------------------------------------------- */

int sgs_customer_index_build(const sgs_exec_t *exec, const int64_t *customer_id, size_t n_rows,
                             uint32_t *row_customer, int64_t **ids_out, size_t *n_customers,
                             sgs_error_t *err)
{
    if (n_rows == 0)
        return sgs_error_set(err, SGS_EINVAL, "grouping: no rows");
    int n_threads = sgs_exec_threads_for(exec, n_rows);
    int64_t min_id = customer_id[0];
    int64_t max_id = customer_id[0];
#pragma omp parallel for num_threads(n_threads) reduction(min : min_id) reduction(max : max_id)
    for (size_t i = 0; i < n_rows; i++) {
        min_id = customer_id[i] < min_id ? customer_id[i] : min_id;
        max_id = customer_id[i] > max_id ? customer_id[i] : max_id;
    }
    /* range - 1 fits in uint64 for any pair of int64 ids. */
    uint64_t range_minus_one = (uint64_t)max_id - (uint64_t)min_id;
    if (range_minus_one / BITMAP_BITS_PER_ROW < n_rows)
        return build_with_bitmap(n_threads, customer_id, n_rows, min_id, range_minus_one + 1,
                                 row_customer, ids_out, n_customers, err);
    return build_with_sample_sort(n_threads, customer_id, n_rows, row_customer, ids_out,
                                  n_customers, err);
}

/* ---- Matching two id lists ------------------------------------------------------------- */

void sgs_customer_ids_match(const int64_t *a, size_t na, const int64_t *b, size_t nb, int64_t *pos)
{
    size_t j = 0;
    for (size_t i = 0; i < na; i++) {
        while (j < nb && b[j] < a[i])
            j++;
        pos[i] = j < nb && b[j] == a[i] ? (int64_t)j : -1;
    }
}
