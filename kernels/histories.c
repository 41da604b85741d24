/*
 * kernels/histories.c — distinct (x, t_x, T) histories with counts. See histories.h.
 *
 * Steps: validate; per column, the sorted distinct values (marks per thread in a table
 * indexed by the value when the column holds whole numbers below 2^16, else hash sets per
 * thread, merged and sorted; a radix sort of the column when it has very many distinct
 * values) and a value -> rank lookup table; each row's rank triple packed into one 64-bit key (two
 * keys in the rare case the ranks need more than 64 bits); a stable parallel LSD radix sort of
 * (key, row); runs of equal keys become the histories.
 */
#include "kernels/histories.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_KEY UINT64_MAX /* a NaN bit pattern: never the key of a valid value */
#define HASH_DISTINCT_LIMIT ((size_t)1 << 22)
#define RADIX_BITS 11
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)

/* Bit pattern of a finite value >= 0 (with -0 folded to +0): for such values the unsigned
 * order of the patterns is the numeric order. */
static uint64_t key_of(double v)
{
    double w = v == 0.0 ? 0.0 : v;
    uint64_t k;
    memcpy(&k, &w, sizeof k);
    return k;
}

static double value_of(uint64_t k)
{
    double v;
    memcpy(&v, &k, sizeof v);
    return v;
}

/* ---- Open-addressing set of keys --------------------------------------------------------- */

typedef struct keyset {
    uint64_t *slot; /* [cap], EMPTY_KEY when free */
    uint32_t *rank; /* [cap] or NULL: value attached to the key (lookup tables) */
    size_t cap;     /* power of two */
    int shift;      /* 64 - log2(cap) */
    size_t n;
} keyset_t;

static int keyset_init(keyset_t *s, size_t cap, int with_rank)
{
    s->slot = sgs_alloc_array(cap, sizeof *s->slot);
    s->rank = with_rank ? sgs_alloc_array(cap, sizeof *s->rank) : NULL;
    s->cap = cap;
    s->shift = 64;
    for (size_t c = cap; c > 1; c >>= 1)
        s->shift--;
    s->n = 0;
    if (!s->slot || (with_rank && !s->rank)) {
        sgs_free(s->slot);
        sgs_free(s->rank);
        s->slot = NULL;
        s->rank = NULL;
        return SGS_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        s->slot[i] = EMPTY_KEY;
    return SGS_OK;
}

static void keyset_free(keyset_t *s)
{
    sgs_free(s->slot);
    sgs_free(s->rank);
    s->slot = NULL;
    s->rank = NULL;
}

/* Slot of key k: where it is, or the free slot where it would go. Fibonacci hashing
 * (multiply, keep the high bits) spreads both the exponent and the mantissa bits. */
static size_t keyset_find(const keyset_t *s, uint64_t k)
{
    size_t mask = s->cap - 1;
    size_t i = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> s->shift);
    while (s->slot[i] != EMPTY_KEY && s->slot[i] != k)
        i = (i + 1) & mask;
    return i;
}

static int keyset_insert(keyset_t *s, uint64_t k)
{
    size_t i = keyset_find(s, k);
    if (s->slot[i] == k)
        return SGS_OK;
    if (4 * (s->n + 1) > s->cap) {
        keyset_t bigger;
        int rc = keyset_init(&bigger, s->cap * 2, 0);
        if (rc)
            return rc;
        for (size_t j = 0; j < s->cap; j++)
            if (s->slot[j] != EMPTY_KEY)
                bigger.slot[keyset_find(&bigger, s->slot[j])] = s->slot[j];
        bigger.n = s->n;
        keyset_free(s);
        *s = bigger;
        i = keyset_find(s, k);
    }
    s->slot[i] = k;
    s->n++;
    return SGS_OK;
}

/* ---- Stable parallel LSD radix sort of (key, row) pairs -------------------------------- */

/* Sort key[0..n) ascending, carrying row[]; stable. key_bits: highest bit that can be set
 * plus one (digits above are skipped). Buffers tmp_key/tmp_row of n entries. The result is
 * left in key/row. Per-block digit histograms are prefix-summed in (digit, block) order, so
 * the permutation does not depend on the thread count. */
static int radix_sort(uint64_t *key, uint32_t *row, uint64_t *tmp_key, uint32_t *tmp_row, size_t n,
                      int key_bits, int n_threads)
{
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    if (n < 2 || key_bits <= 0)
        return SGS_OK;
    size_t *counts = sgs_alloc_array(n_blocks * RADIX_SIZE, sizeof *counts);
    if (!counts)
        return SGS_ENOMEM;
    uint64_t *src_k = key, *dst_k = tmp_key;
    uint32_t *src_r = row, *dst_r = tmp_row;
    for (int shift = 0; shift < key_bits; shift += RADIX_BITS) {
#pragma omp parallel for num_threads(n_threads) schedule(static)
        for (size_t b = 0; b < n_blocks; b++) {
            size_t *c = counts + b * RADIX_SIZE;
            memset(c, 0, RADIX_SIZE * sizeof *c);
            size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
            for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
                c[(src_k[i] >> shift) & (RADIX_SIZE - 1)]++;
        }
        size_t running = 0;
        for (size_t d = 0; d < RADIX_SIZE; d++)
            for (size_t b = 0; b < n_blocks; b++) {
                size_t c = counts[b * RADIX_SIZE + d];
                counts[b * RADIX_SIZE + d] = running;
                running += c;
            }
#pragma omp parallel for num_threads(n_threads) schedule(static)
        for (size_t b = 0; b < n_blocks; b++) {
            size_t *off = counts + b * RADIX_SIZE;
            size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
            for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++) {
                size_t pos = off[(src_k[i] >> shift) & (RADIX_SIZE - 1)]++;
                dst_k[pos] = src_k[i];
                dst_r[pos] = src_r[i];
            }
        }
        uint64_t *tk = src_k;
        src_k = dst_k;
        dst_k = tk;
        uint32_t *tr = src_r;
        src_r = dst_r;
        dst_r = tr;
    }
    if (src_k != key) {
        memcpy(key, src_k, n * sizeof *key);
        memcpy(row, src_r, n * sizeof *row);
    }
    sgs_free(counts);
    return SGS_OK;
}

static int bits_for(size_t m) /* bits needed for ranks 0..m-1 */
{
    int b = 0;
    while (b < 64 && ((size_t)1 << b) < m)
        b++;
    return b;
}

/* ---- Distinct values of one column --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct column {
    const double *v;         /* [n] input */
    size_t m;                /* distinct values */
    double *values;          /* [m] ascending (owned, moved into the result) */
    keyset_t lookup;         /* key -> rank, when found by hashing */
    uint32_t *rank;          /* [n] per-row ranks, when found by radix sort (else NULL) */
    uint32_t *rank_of_value; /* [max + 1] rank of each whole value, when found by counting */
} column_t;

/* Columns of whole numbers below this (days, purchase counts: nearly always) are ranked
 * through a table indexed by the value, instead of hash sets. */
#define DENSE_VALUE_LIMIT ((size_t)1 << 16)

/* Distinct values of a column of whole numbers in [0, DENSE_VALUE_LIMIT) (values >= 0 already
 * checked) by marking them in per-thread tables; *not_dense when a value is not such a
 * number (the caller then hashes). The same values as the hash sets find (-0 as +0). */
static int column_by_counting(column_t *col, size_t n, int n_threads, int *not_dense)
{
    uint8_t *seen = sgs_calloc_array((size_t)n_threads * DENSE_VALUE_LIMIT, sizeof *seen);
    if (!seen)
        return SGS_ENOMEM;
    int other = 0;
#pragma omp parallel num_threads(n_threads) reduction(| : other)
    {
        int tid = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t lo = n * (size_t)tid / (size_t)nt, hi = n * (size_t)(tid + 1) / (size_t)nt;
        uint8_t *mine = seen + (size_t)tid * DENSE_VALUE_LIMIT;
        for (size_t i = lo; i < hi; i++) {
            double v = col->v[i];
            if (!(v < (double)DENSE_VALUE_LIMIT) || v != floor(v)) {
                other = 1;
                break;
            }
            mine[(size_t)v] = 1;
        }
    }
    *not_dense = other;
    if (other) {
        sgs_free(seen);
        return SGS_OK;
    }
    size_t top = 0, m = 0; /* one past the largest value; distinct values */
    for (size_t v = 0; v < DENSE_VALUE_LIMIT; v++) {
        uint8_t any = 0;
        for (int t = 0; t < n_threads; t++)
            any |= seen[(size_t)t * DENSE_VALUE_LIMIT + v];
        seen[v] = any;
        if (any) {
            top = v + 1;
            m++;
        }
    }
    col->rank_of_value = sgs_alloc_array(top ? top : 1, sizeof *col->rank_of_value);
    col->values = sgs_alloc_array(m ? m : 1, sizeof *col->values);
    if (!col->rank_of_value || !col->values) {
        sgs_free(seen);
        return SGS_ENOMEM;
    }
    size_t r = 0;
    for (size_t v = 0; v < top; v++)
        if (seen[v]) {
            col->rank_of_value[v] = (uint32_t)r;
            col->values[r++] = (double)v;
        }
    col->m = m;
    sgs_free(seen);
    return SGS_OK;
}

/* Distinct values by radix-sorting the whole column (for columns with very many). */
static int column_by_sort(column_t *col, size_t n, uint64_t *k, uint32_t *r, uint64_t *tk,
                          uint32_t *tr, int n_threads)
{
    for (size_t i = 0; i < n; i++) {
        k[i] = key_of(col->v[i]);
        r[i] = (uint32_t)i;
    }
    int rc = radix_sort(k, r, tk, tr, n, 64, n_threads);
    if (rc)
        return rc;
    col->rank = sgs_alloc_array(n, sizeof *col->rank);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || k[i] != k[i - 1])
            m++;
    col->values = sgs_alloc_array(m, sizeof *col->values);
    if (!col->rank || !col->values)
        return SGS_ENOMEM;
    size_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && k[i] != k[i - 1])
            cur++;
        if (i == 0 || k[i] != k[i - 1])
            col->values[cur] = value_of(k[i]);
        col->rank[r[i]] = (uint32_t)cur;
    }
    col->m = m;
    return SGS_OK;
}

/* Distinct values by per-thread hash sets. Sets *too_many when a thread saw more than
 * HASH_DISTINCT_LIMIT distinct values, or more than 4096 that are over half of its rows
 * (the caller then sorts the column instead). */
static int column_by_hash(column_t *col, size_t n, int n_threads, int *too_many)
{
    keyset_t *sets = sgs_calloc_array((size_t)n_threads, sizeof *sets);
    if (!sets)
        return SGS_ENOMEM;
    int rc = SGS_OK, overflow = 0;
#pragma omp parallel num_threads(n_threads) reduction(| : overflow)
    {
        int tid = omp_get_thread_num(), nt = omp_get_num_threads();
        size_t lo = n * (size_t)tid / (size_t)nt, hi = n * (size_t)(tid + 1) / (size_t)nt;
        keyset_t *s = &sets[tid];
        int my_rc = keyset_init(s, 1024, 0);
        for (size_t i = lo; i < hi && !my_rc; i++) {
            my_rc = keyset_insert(s, key_of(col->v[i]));
            /* mostly distinct (continuous times): sorting the column is cheaper */
            if (s->n > HASH_DISTINCT_LIMIT || (s->n > 4096 && 2 * s->n > hi - lo)) {
                overflow = 1;
                break;
            }
        }
        if (my_rc) {
#pragma omp critical(sgs_histories_rc)
            rc = my_rc;
        }
    }
    size_t total = 0;
    for (int t = 0; t < n_threads; t++)
        total += sets[t].n;
    uint64_t *all = NULL;
    if (!rc && !overflow) {
        all = sgs_alloc_array(total, sizeof *all);
        if (!all)
            rc = SGS_ENOMEM;
    }
    if (!rc && !overflow) {
        size_t m = 0;
        for (int t = 0; t < n_threads; t++)
            for (size_t j = 0; j < sets[t].cap; j++)
                if (sets[t].slot[j] != EMPTY_KEY)
                    all[m++] = sets[t].slot[j];
        qsort(all, m, sizeof *all, cmp_u64);
        size_t u = 0;
        for (size_t j = 0; j < m; j++)
            if (j == 0 || all[j] != all[j - 1])
                all[u++] = all[j];
        size_t cap = 16;
        while (cap < 4 * u + 4)
            cap *= 2;
        col->values = sgs_alloc_array(u, sizeof *col->values);
        rc = col->values ? keyset_init(&col->lookup, cap, 1) : SGS_ENOMEM;
        if (!rc) {
            for (size_t j = 0; j < u; j++) {
                col->values[j] = value_of(all[j]);
                size_t s = keyset_find(&col->lookup, all[j]);
                col->lookup.slot[s] = all[j];
                col->lookup.rank[s] = (uint32_t)j;
            }
            col->lookup.n = u;
            col->m = u;
        }
    }
    for (int t = 0; t < n_threads; t++)
        keyset_free(&sets[t]);
    sgs_free(sets);
    sgs_free(all);
    *too_many = overflow;
    return rc;
}

static uint32_t column_rank(const column_t *col, size_t i)
{
    if (col->rank_of_value)
        return col->rank_of_value[(size_t)col->v[i]];
    if (col->rank)
        return col->rank[i];
    return col->lookup.rank[keyset_find(&col->lookup, key_of(col->v[i]))];
}

static void column_free(column_t *col)
{
    sgs_free(col->values);
    keyset_free(&col->lookup);
    sgs_free(col->rank);
    sgs_free(col->rank_of_value);
    col->values = NULL;
    col->rank = NULL;
    col->rank_of_value = NULL;
}

/* ---- Validation ---------------------------------------------------------------------------- */

/* 0 when row i is valid, else a code naming the problem (for the message). */
static int row_problem(const double *x, const double *t_x, const double *T, const double *w,
                       size_t i)
{
    if (!isfinite(x[i]) || !isfinite(t_x[i]) || !isfinite(T[i]))
        return 1;
    if (x[i] < 0.0 || x[i] != floor(x[i]))
        return 2;
    if (t_x[i] < 0.0 || t_x[i] > T[i])
        return 3;
    if (x[i] == 0.0 && t_x[i] != 0.0)
        return 4;
    if (w && !(w[i] > 0.0 && isfinite(w[i])))
        return 5;
    return 0;
}

static int validate(const double *x, const double *t_x, const double *T, const double *w, size_t n,
                    int n_threads, sgs_error_t *err)
{
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);
    size_t first_bad = SIZE_MAX;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(min : first_bad)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++)
            if (row_problem(x, t_x, T, w, i)) {
                if (i < first_bad)
                    first_bad = i;
                break;
            }
    }
    if (first_bad == SIZE_MAX)
        return SGS_OK;
    size_t i = first_bad;
    static const char *what[] = {"",
                                 "a value is not finite",
                                 "x must be a non-negative integer",
                                 "t_x must satisfy 0 <= t_x <= T",
                                 "t_x must be 0 when x is 0",
                                 "weight must be finite and > 0"};
    return sgs_error_set(err, SGS_EDATA, "history of row %zu (x=%g, t_x=%g, T=%g): %s", i, x[i],
                         t_x[i], T[i], what[row_problem(x, t_x, T, w, i)]);
}

/* ---- Build ------------------------------------------------------------------------------------
 */

void sgs_histories_free(sgs_histories_t *h)
{
    if (!h)
        return;
    sgs_free(h->x);
    sgs_free(h->t_x);
    sgs_free(h->T);
    sgs_free(h->count);
    sgs_free(h->x_id);
    sgs_free(h->t_x_id);
    sgs_free(h->T_id);
    sgs_free(h->x_values);
    sgs_free(h->t_x_values);
    sgs_free(h->T_values);
    sgs_free(h->count_by_x);
    sgs_free(h->history_of);
    memset(h, 0, sizeof *h);
}

int sgs_histories_build(sgs_histories_t *h, const double *x, const double *t_x, const double *T,
                        const double *weight, size_t n, const sgs_exec_t *exec, sgs_error_t *err)
{
    memset(h, 0, sizeof *h);
    if (n > 0 && (!x || !t_x || !T))
        return sgs_error_set(err, SGS_EINVAL, "histories: NULL column with %zu rows", n);
    if (n >= (size_t)UINT32_MAX)
        return sgs_error_set(err, SGS_EOVERFLOW, "histories: %zu rows, at most 2^32 - 2", n);
    int nt = sgs_exec_threads_for(exec, n);
    int rc = validate(x, t_x, T, weight, n, nt, err);
    if (rc)
        return rc;

    column_t cols[3] = {{.v = x}, {.v = t_x}, {.v = T}};
    uint64_t *key = NULL, *tmp_key = NULL, *hi_key = NULL;
    uint32_t *row = NULL, *tmp_row = NULL;
    size_t *starts = NULL;
    key = sgs_alloc_array(n, sizeof *key);
    tmp_key = sgs_alloc_array(n, sizeof *tmp_key);
    row = sgs_alloc_array(n, sizeof *row);
    tmp_row = sgs_alloc_array(n, sizeof *tmp_row);
    h->history_of = sgs_alloc_array(n, sizeof *h->history_of);
    if (!key || !tmp_key || !row || !tmp_row || !h->history_of) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }

    /* distinct values and ranks of each column */
    for (int c = 0; c < 3 && !rc; c++) {
        int not_dense = 0, too_many = 0;
        rc = column_by_counting(&cols[c], n, nt, &not_dense);
        if (!rc && not_dense)
            rc = column_by_hash(&cols[c], n, nt, &too_many);
        if (!rc && too_many)
            rc = column_by_sort(&cols[c], n, key, row, tmp_key, tmp_row, nt);
    }
    if (rc)
        goto cleanup;
    int bx = bits_for(cols[0].m), btx = bits_for(cols[1].m), bT = bits_for(cols[2].m);
    int packed = bx + btx + bT <= 64;
    size_t n_blocks = sgs_block_count(n, SGS_BLOCK_ROWS);

    /* keys: (rank_x, rank_tx, rank_T) packed, or (rank_tx, rank_T) then rank_x */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n;
        for (size_t i = b * SGS_BLOCK_ROWS; i < end; i++) {
            uint64_t lo = ((uint64_t)column_rank(&cols[1], i) << bT) | column_rank(&cols[2], i);
            key[i] = packed ? ((uint64_t)column_rank(&cols[0], i) << (btx + bT)) | lo : lo;
            row[i] = (uint32_t)i;
        }
    }
    rc = radix_sort(key, row, tmp_key, tmp_row, n, packed ? bx + btx + bT : btx + bT, nt);
    if (!rc && !packed) {
        /* second LSD stage: stable sort by rank_x, then re-read the low keys */
        hi_key = sgs_alloc_array(n, sizeof *hi_key);
        if (!hi_key) {
            rc = SGS_ENOMEM;
            goto cleanup;
        }
        for (size_t j = 0; j < n; j++)
            hi_key[j] = column_rank(&cols[0], row[j]);
        rc = radix_sort(hi_key, row, tmp_key, tmp_row, n, bx, nt);
        for (size_t j = 0; !rc && j < n; j++)
            key[j] =
                ((uint64_t)column_rank(&cols[1], row[j]) << bT) | column_rank(&cols[2], row[j]);
    }
    if (rc)
        goto cleanup;

    /* runs of equal keys: count run starts per block, prefix, then fill */
    starts = sgs_alloc_array(n_blocks + 1, sizeof *starts);
    if (!starts) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
#define SAME_AS_PREVIOUS(j)                                                                        \
    ((j) > 0 && key[j] == key[(j)-1] && (packed || hi_key[j] == hi_key[(j)-1]))
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t end = (b + 1) * SGS_BLOCK_ROWS < n ? (b + 1) * SGS_BLOCK_ROWS : n, c = 0;
        for (size_t j = b * SGS_BLOCK_ROWS; j < end; j++)
            c += !SAME_AS_PREVIOUS(j);
        starts[b + 1] = c;
    }
    starts[0] = 0;
    for (size_t b = 0; b < n_blocks; b++)
        starts[b + 1] += starts[b];
    size_t m = starts[n_blocks];
    h->n_customers = n;
    h->n_unique = m;
    h->x = sgs_alloc_array(m, sizeof *h->x);
    h->t_x = sgs_alloc_array(m, sizeof *h->t_x);
    h->T = sgs_alloc_array(m, sizeof *h->T);
    h->count = sgs_alloc_array(m, sizeof *h->count);
    h->x_id = sgs_alloc_array(m, sizeof *h->x_id);
    h->t_x_id = sgs_alloc_array(m, sizeof *h->t_x_id);
    h->T_id = sgs_alloc_array(m, sizeof *h->T_id);
    h->count_by_x = sgs_calloc_array(cols[0].m, sizeof *h->count_by_x);
    if (!h->x || !h->t_x || !h->T || !h->count || !h->x_id || !h->t_x_id || !h->T_id ||
        !h->count_by_x) {
        rc = SGS_ENOMEM;
        goto cleanup;
    }
    uint64_t mask_T = bT ? (~UINT64_C(0) >> (64 - bT)) : 0;
    uint64_t mask_tx = btx ? (~UINT64_C(0) >> (64 - btx)) : 0;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t b = 0; b < n_blocks; b++) {
        size_t begin = b * SGS_BLOCK_ROWS;
        size_t end = begin + SGS_BLOCK_ROWS < n ? begin + SGS_BLOCK_ROWS : n;
        size_t cur = starts[b] - 1; /* the run in progress (wraps to SIZE_MAX at 0) */
        for (size_t j = begin; j < end; j++) {
            if (!SAME_AS_PREVIOUS(j)) {
                cur++;
                uint32_t rx = packed ? (uint32_t)(key[j] >> (btx + bT)) : (uint32_t)hi_key[j];
                uint32_t rtx = (uint32_t)((key[j] >> bT) & mask_tx);
                uint32_t rT = (uint32_t)(key[j] & mask_T);
                h->x_id[cur] = rx;
                h->t_x_id[cur] = rtx;
                h->T_id[cur] = rT;
                h->x[cur] = cols[0].values[rx];
                h->t_x[cur] = cols[1].values[rtx];
                h->T[cur] = cols[2].values[rT];
                /* the whole run, summed in row order by the block where it starts */
                double c = 0.0;
                size_t k = j;
                do {
                    c += weight ? weight[row[k]] : 1.0;
                    k++;
                } while (k < n && SAME_AS_PREVIOUS(k));
                h->count[cur] = c;
            }
            h->history_of[row[j]] = (uint32_t)cur;
        }
    }
#undef SAME_AS_PREVIOUS
    double total = 0.0;
    for (size_t j = 0; j < m; j++) {
        h->count_by_x[h->x_id[j]] += h->count[j];
        total += h->count[j];
    }
    h->total_weight = total;
    h->n_x_values = cols[0].m;
    h->n_t_x_values = cols[1].m;
    h->n_T_values = cols[2].m;
    h->x_values = cols[0].values;
    h->t_x_values = cols[1].values;
    h->T_values = cols[2].values;
    for (int c = 0; c < 3; c++)
        cols[c].values = NULL;

cleanup:
    for (int c = 0; c < 3; c++)
        column_free(&cols[c]);
    sgs_free(key);
    sgs_free(tmp_key);
    sgs_free(hi_key);
    sgs_free(row);
    sgs_free(tmp_row);
    sgs_free(starts);
    if (rc) {
        sgs_histories_free(h);
        if (rc == SGS_ENOMEM)
            sgs_error_set(err, rc, "histories: out of memory for %zu rows", n);
        else
            sgs_error_set(err, rc, "histories: %s", sgs_strerror(rc));
    }
    return rc;
}
