/*
 * tests/unit/test_h5_decode.c — columns read through the reader's own decode
 * (io/h5_reader_decode.c, io/h5_chunk_decode.h, io/h5_convert.h) give exactly what H5Dread
 * gives: deflate, shuffle + deflate and uncompressed chunks, partial last chunks, chunks whose
 * filter mask skipped filters, integer and float conversions (int32 to int64, float32 to
 * float64, big-endian, NaN payloads), the as-of and small reads moving decoded rows, 1, 2 and
 * 3 threads; contiguous and Fletcher-32 datasets, still read by H5Dread, give the same bytes.
 * A damaged compressed chunk is refused with the guard's message (file, dataset, rows) before
 * any row is checked, and before problems found later at open; a value out of range is
 * reported as H5Dread's path reports it. The pure parts are checked against libhdf5 itself:
 * conversions against H5Tconvert, the decode against the guard's decoded size and zlib.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_chunk_decode.h"
#include "io/h5_columns.h"
#include "io/h5_convert.h"
#include "io/h5_decoded_size.h"
#include "io/h5_guard.h"
#include "io/h5_input.h"
#include "tests/support/test_rng.h"
#include "tests/support/test_support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* 2024-01-01T00:00:00Z and a "now" a year later, so that test data is never "future". */
#define T0 INT64_C(1704067200)
#define NOW (T0 + 366 * 86400)

#define N 1000   /* rows of the test tables */
#define CHUNK 64 /* rows per file chunk: the last chunk holds 1000 - 15 x 64 = 40 */
#define AS_OF (T0 + 600 * 37)

static char dir[256];

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("h5decode", dir, sizeof dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

/* ---- Building files -------------------------------------------------------------------- */

typedef enum layout { CONTIGUOUS, CHUNKED, DEFLATE, SHUFFLE_DEFLATE, FLETCHER, N_LAYOUTS } layout_t;
static const char *const layout_names[N_LAYOUTS] = {
    "contiguous", "chunked", "deflate", "shuffle+deflate", "shuffle+deflate+fletcher32"};

/* Creation properties of a 1-D dataset in chunks of `chunk` rows. */
static hid_t make_dcpl(layout_t layout, hsize_t chunk)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    sgs_assert_cmp(dcpl, >=, 0);
    if (layout == CONTIGUOUS)
        return dcpl;
    H5Pset_chunk(dcpl, 1, &chunk);
    if (layout == SHUFFLE_DEFLATE || layout == FLETCHER)
        H5Pset_shuffle(dcpl);
    if (layout != CHUNKED)
        H5Pset_deflate(dcpl, 4);
    if (layout == FLETCHER)
        H5Pset_fletcher32(dcpl);
    return dcpl;
}

/* The dataset `path` of n rows of file type ftype, written from buf of memory type mtype
 * (HDF5 converts). */
static void write_dataset(hid_t file, const char *path, hid_t ftype, layout_t layout, hid_t mtype,
                          const void *buf, size_t n)
{
    char group[64];
    snprintf(group, sizeof group, "%.*s", (int)(strrchr(path, '/') - path), path);
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_group_ensure(file, group, &err), 0);
    hid_t dcpl = make_dcpl(layout, CHUNK);
    hsize_t dims = n;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t d = H5Dcreate2(file, path, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    sgs_assert_cmp(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), >=, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Pclose(dcpl);
}

/* The file types of a table's columns. */
typedef struct types {
    const char *name;
    hid_t id, time, amount, channel, category;
} types_t;

/* The type sets tried: as segscore writes them, narrower and wider integers and float32 (the
 * reader converts), big-endian, and both. */
static void type_sets(types_t *t)
{
    t[0] = (types_t){"native",       H5T_STD_I64LE, H5T_STD_I64LE,
                     H5T_IEEE_F64LE, H5T_STD_U8LE,  H5T_STD_I32LE};
    t[1] = (types_t){"converted",    H5T_STD_I32LE, H5T_STD_U32LE,
                     H5T_IEEE_F32LE, H5T_STD_I64LE, H5T_STD_I16LE};
    t[2] = (types_t){"big-endian",   H5T_STD_I64BE, H5T_STD_I64BE,
                     H5T_IEEE_F64BE, H5T_STD_U8BE,  H5T_STD_I32BE};
    t[3] = (types_t){"converted big-endian", H5T_STD_I16BE, H5T_STD_U32BE,
                     H5T_IEEE_F32BE,         H5T_STD_I16BE, H5T_STD_I64BE};
}
#define N_TYPE_SETS 4

/* The table's values: sorted ids, times every 37 s (rows 600.. after AS_OF, and every fifth
 * row, so that the as-of drops rows all along), amounts exact in float32, channels,
 * categories of both signs. */
static int64_t ids[N], times[N], channels64[N], categories64[N];
static double amounts[N];

static void fill_values(void)
{
    for (size_t i = 0; i < N; i++) {
        ids[i] = 1 + (int64_t)i / 3;
        times[i] = T0 + (int64_t)i * 37 + (i % 5 == 4 ? 30000 : 0);
        amounts[i] = (double)(i % 97) * 0.25 - 3.5;
        channels64[i] = (int64_t)(i % 6);
        categories64[i] = (int64_t)(i * 7919 % 2001) - 1000;
    }
}

/* dir/<name>: /transactions of N rows with the types `t` and the layout. */
static void write_table(const char *path, const types_t *t, layout_t layout)
{
    fill_values();
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(file, >=, 0);
    write_dataset(file, "/transactions/customer_id", t->id, layout, H5T_NATIVE_INT64, ids, N);
    write_dataset(file, "/transactions/time", t->time, layout, H5T_NATIVE_INT64, times, N);
    write_dataset(file, "/transactions/amount", t->amount, layout, H5T_NATIVE_DOUBLE, amounts, N);
    write_dataset(file, "/transactions/channel", t->channel, layout, H5T_NATIVE_INT64, channels64,
                  N);
    write_dataset(file, "/transactions/category", t->category, layout, H5T_NATIVE_INT64,
                  categories64, N);
    H5Fclose(file);
}

/* ---- What H5Dread gives ------------------------------------------------------------------ */

/* The whole dataset `dset` of `file` read by H5Dread as `type` (the caller frees). */
static void *h5dread(const char *file, const char *dset, sgs_h5_type_t type)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    sgs_assert_cmp(f, >=, 0);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    hid_t space = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    void *buf = calloc((size_t)n + 1, sgs_h5_type_size(type));
    assert_non_null(buf);
    sgs_assert_cmp(H5Dread(d, sgs_h5_mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), >=, 0);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(f);
    return buf;
}

/* Whether the guard leaves the decoded sizes of `dset` to the reader's decode. */
static int deferred(const char *file, const char *dset, sgs_h5_classes_t classes)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    sgs_assert_cmp(d, >=, 0);
    sgs_h5_column_rule_t rule = {"column", classes, 8, "int64"};
    sgs_h5_refusal_t why;
    int is_deferred = -1;
    assert_int_equal(sgs_h5_guard_dataset_deferring(f, d, &rule, 1, &is_deferred, &why), 0);
    H5Dclose(d);
    H5Fclose(f);
    return is_deferred;
}

static sgs_read_options_t options(size_t chunk_rows, int n_threads, int as_of)
{
    sgs_read_options_t opt;
    sgs_read_options_init(&opt);
    opt.now_s = NOW;
    opt.chunk_rows = chunk_rows;
    opt.n_threads = n_threads;
    opt.has_as_of = as_of;
    opt.as_of_end_s = AS_OF;
    return opt;
}

/* Fail unless got[0..n) and want[0..n) (elements of `elem` bytes) are the same bytes, naming
 * the first row that differs. */
static void assert_rows_equal(const void *got, const void *want, size_t n, size_t elem,
                              const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)got + i * elem, (const char *)want + i * elem, elem) != 0) {
            uint64_t g = 0, w = 0;
            memcpy(&g, (const char *)got + i * elem, elem);
            memcpy(&w, (const char *)want + i * elem, elem);
            fail_msg("%s: row %zu is 0x%llx, H5Dread gives 0x%llx", what, i, (unsigned long long)g,
                     (unsigned long long)w);
        }
}

/* The columns of a file's /transactions as H5Dread reads them, in the reader's types. */
static const struct {
    const char *dset;
    sgs_h5_type_t type;
} tx_cols[5] = {{"/transactions/customer_id", SGS_H5_I64},
                {"/transactions/time", SGS_H5_I64},
                {"/transactions/amount", SGS_H5_F64},
                {"/transactions/channel", SGS_H5_U8},
                {"/transactions/category", SGS_H5_I32}};

typedef struct reference {
    unsigned char *col[5];
} reference_t;

static void reference_read(const char *path, reference_t *ref)
{
    for (size_t k = 0; k < 5; k++)
        ref->col[k] = h5dread(path, tx_cols[k].dset, tx_cols[k].type);
}

static void reference_free(reference_t *ref)
{
    for (size_t k = 0; k < 5; k++)
        free(ref->col[k]);
}

/* Read `path` with the options and compare every column with H5Dread's `ref` (its rows
 * before AS_OF when opt->has_as_of). */
static void check_against_h5dread(const char *path, const reference_t *ref,
                                  const sgs_read_options_t *opt, sgs_read_stats_t *stats,
                                  const char *what)
{
    sgs_transactions_t t;
    sgs_error_t err = {0};
    int rc = sgs_h5_read_transactions(path, opt, &t, stats, &err);
    if (rc)
        fail_msg("%s: %s", what, err.message);
    const int64_t *time = (const int64_t *)ref->col[1];
    size_t n = 0;
    unsigned char keep[N];
    for (size_t i = 0; i < N; i++) {
        keep[i] = !opt->has_as_of || time[i] < AS_OF;
        n += keep[i];
    }
    sgs_assert_cmp(n, <, opt->has_as_of ? 500 : N + 1);
    assert_int_equal(t.n_rows, n);
    const void *got[] = {t.customer_id, t.time_s, t.amount, t.channel, t.category};
    unsigned char want[N * 8];
    for (size_t k = 0; k < 5; k++) {
        size_t elem = sgs_h5_type_size(tx_cols[k].type), kept = 0;
        for (size_t i = 0; i < N; i++) /* the rows kept, moved down */
            if (keep[i])
                memcpy(want + elem * kept++, ref->col[k] + elem * i, elem);
        char label[256];
        snprintf(label, sizeof label, "%s: %s", what, tx_cols[k].dset);
        assert_rows_equal(got[k], want, n, elem, label);
    }
    sgs_transactions_free(&t);
}

/* ---- The table read as H5Dread reads it -------------------------------------------------- */

/* Every layout and type set, 1, 2 and 3 threads, reads of 3 rows and of the default size,
 * with and without an as-of: the columns H5Dread gives, and the same stats (content hash
 * included) as the contiguous file's, which H5Dread reads. */
static void test_reads_as_h5dread(void **state)
{
    (void)state;
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    for (int s = 0; s < N_TYPE_SETS; s++) {
        sgs_read_stats_t reference[2];
        for (int layout = 0; layout < N_LAYOUTS; layout++) {
            char path[512];
            snprintf(path, sizeof path, "%s/table-%d-%d.h5", dir, s, layout);
            write_table(path, &sets[s], (layout_t)layout);
            int expect_deferred = layout != CONTIGUOUS && layout != FLETCHER;
            assert_int_equal(deferred(path, "/transactions/amount", SGS_H5_FLOATS),
                             expect_deferred);
            assert_int_equal(deferred(path, "/transactions/category", SGS_H5_INTEGERS),
                             expect_deferred);
            reference_t ref;
            reference_read(path, &ref);
            for (int as_of = 0; as_of <= 1; as_of++)
                for (int nt = 1; nt <= 3; nt++)
                    for (int small = 0; small <= 1; small++) {
                        char what[256];
                        snprintf(what, sizeof what, "%s types, %s, %d threads, %s reads%s",
                                 sets[s].name, layout_names[layout], nt, small ? "7-row" : "whole",
                                 as_of ? ", as-of" : "");
                        sgs_read_options_t opt = options(small ? 7 : 0, nt, as_of);
                        sgs_read_stats_t stats;
                        check_against_h5dread(path, &ref, &opt, &stats, what);
                        if (layout == CONTIGUOUS && nt == 1 && !small)
                            reference[as_of] = stats;
                        else if (memcmp(&stats, &reference[as_of], sizeof stats) != 0)
                            fail_msg("%s: stats differ from the contiguous file's (hash %016llx, "
                                     "%016llx)",
                                     what, (unsigned long long)stats.content_hash64,
                                     (unsigned long long)reference[as_of].content_hash64);
                    }
            reference_free(&ref);
        }
    }
}

/* A chunk stored with its filters skipped by its filter mask (as HDF5 stores a chunk that did
 * not compress): every combination in a shuffle + deflate column, and the partial last
 * chunk. */
static void test_skipped_filters_as_h5dread(void **state)
{
    (void)state;
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    char path[512];
    snprintf(path, sizeof path, "%s/skipped.h5", dir);
    write_table(path, &sets[0], SHUFFLE_DEFLATE);
    double chunk[CHUNK], shuffled[CHUNK];
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/transactions/amount", H5P_DEFAULT);
    for (unsigned mask = 1; mask <= 3; mask++) { /* chunks 1, 2, 3; bit 0 shuffle, bit 1 deflate */
        for (size_t i = 0; i < CHUNK; i++)
            chunk[i] = 1000.0 * mask + (double)i * 0.5;
        const unsigned char *bytes = (const unsigned char *)chunk;
        unsigned char *sh = (unsigned char *)shuffled;
        for (size_t b = 0; b < 8; b++) /* HDF5's shuffle: byte b of every element together */
            for (size_t j = 0; j < CHUNK; j++)
                sh[b * CHUNK + j] = bytes[j * 8 + b];
        const void *stage = mask & 1u ? (const void *)chunk : (const void *)shuffled;
        unsigned char z[2 * sizeof chunk];
        uLongf n_z = sizeof z;
        const void *stored = stage;
        size_t n_stored = sizeof chunk;
        if (!(mask & 2u)) {
            assert_int_equal(compress2(z, &n_z, stage, sizeof chunk, 6), Z_OK);
            stored = z;
            n_stored = n_z;
        }
        hsize_t offset = mask * CHUNK;
        sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, mask, &offset, n_stored, stored), >=, 0);
    }
    H5Dclose(d);
    H5Fclose(file);
    assert_int_equal(deferred(path, "/transactions/amount", SGS_H5_FLOATS), 1);
    reference_t ref;
    reference_read(path, &ref);
    for (int nt = 1; nt <= 3; nt++) {
        sgs_read_options_t opt = options(0, nt, 0);
        sgs_read_stats_t stats;
        check_against_h5dread(path, &ref, &opt, &stats, "skipped filters");
    }
    reference_free(&ref);
}

/* /events/value (NaN allowed) in float32 and float64 of both byte orders, with NaN payloads of
 * both signs, infinities, zeros of both signs, subnormals: the bits H5Dread gives (float32
 * big-endian NaN: libhdf5's soft conversion writes every mantissa bit). */
static void test_event_values_as_h5dread(void **state)
{
    (void)state;
    static const uint32_t specials32[] = {0x7f800001u, 0xff800001u, 0x7fc00000u, 0xffc00000u,
                                          0x7fbfffffu, 0x7f800000u, 0xff800000u, 0x00000000u,
                                          0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu,
                                          0x3f800000u, 0xc0490fdbu, 0x7fffffffu, 0x00400000u};
    static const uint64_t specials64[] = {
        UINT64_C(0x7ff0000000000001), UINT64_C(0xfff0000000000001), UINT64_C(0x7ff8000000000000),
        UINT64_C(0xfff8deadbeef0000), UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000),
        UINT64_C(0x0000000000000000), UINT64_C(0x8000000000000000), UINT64_C(0x0000000000000001),
        UINT64_C(0x800fffffffffffff), UINT64_C(0x7fefffffffffffff), UINT64_C(0x3ff0000000000000)};
    const size_t n32 = sizeof specials32 / sizeof specials32[0];
    const size_t n64 = sizeof specials64 / sizeof specials64[0];
    hid_t kinds[4] = {H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_IEEE_F64LE, H5T_IEEE_F64BE};
    for (int k = 0; k < 4; k++)
        for (int layout = CONTIGUOUS; layout <= SHUFFLE_DEFLATE; layout++) {
            int is32 = k < 2, big = k % 2;
            size_t size = is32 ? 4 : 8;
            unsigned char *raw = malloc(N * size);
            uint8_t kind[N];
            uint64_t s = 17 + (uint64_t)k;
            for (size_t i = 0; i < N; i++) { /* specials, then random bit patterns */
                uint64_t v = is32 ? (i < n32 ? specials32[i] : (uint32_t)sgs_test_next(&s))
                                  : (i < n64 ? specials64[i] : sgs_test_next(&s));
                for (size_t b = 0; b < size; b++) /* the file's byte order */
                    raw[i * size + b] = (unsigned char)(v >> (8 * (big ? size - 1 - b : b)));
                kind[i] = (uint8_t)(1 + i % 8);
            }
            fill_values();
            char path[512];
            snprintf(path, sizeof path, "%s/events-%d-%d.h5", dir, k, layout);
            hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            write_dataset(file, "/transactions/customer_id", H5T_STD_I64LE, CONTIGUOUS,
                          H5T_NATIVE_INT64, ids, N);
            write_dataset(file, "/transactions/time", H5T_STD_I64LE, CONTIGUOUS, H5T_NATIVE_INT64,
                          times, N);
            write_dataset(file, "/transactions/amount", H5T_IEEE_F64LE, CONTIGUOUS,
                          H5T_NATIVE_DOUBLE, amounts, N);
            write_dataset(file, "/events/customer_id", H5T_STD_I64LE, (layout_t)layout,
                          H5T_NATIVE_INT64, ids, N);
            write_dataset(file, "/events/time", H5T_STD_I64BE, (layout_t)layout, H5T_NATIVE_INT64,
                          times, N);
            write_dataset(file, "/events/kind", H5T_STD_U8LE, (layout_t)layout, H5T_NATIVE_UINT8,
                          kind, N);
            write_dataset(file, "/events/value", kinds[k], (layout_t)layout, kinds[k], raw, N);
            H5Fclose(file);
            free(raw);
            for (int nt = 1; nt <= 2; nt++) {
                sgs_read_options_t opt = options(nt == 1 ? 0 : 7, nt, 0);
                sgs_events_t e;
                int present = 0;
                sgs_error_t err = {0};
                if (sgs_h5_read_events(path, &opt, &e, &present, NULL, &err))
                    fail_msg("%s", err.message);
                assert_int_equal(present, 1);
                assert_int_equal(e.n_rows, N);
                double *want = h5dread(path, "/events/value", SGS_H5_F64);
                char what[128];
                snprintf(what, sizeof what, "/events/value, file type %d, %s, %d threads", k,
                         layout_names[layout], nt);
                assert_rows_equal(e.value, want, N, 8, what);
                sgs_free(want);
                int64_t *want_time = h5dread(path, "/events/time", SGS_H5_I64);
                assert_rows_equal(e.time_s, want_time, N, 8, "/events/time");
                free(want_time);
                sgs_events_free(&e);
            }
        }
}

/* ---- Values out of range ---------------------------------------------------------------- */

/* A channel of 300 (int16 file) and a category of 2^40 (int64 file), in compressed columns:
 * the message of the first one, and every problem in collect mode, are those of the same
 * table stored contiguous (read by H5Dread, whose conversion callback finds them). */
static void collect(void *ctx, const sgs_input_problem_t *p)
{
    char *log = ctx;
    size_t used = strlen(log);
    snprintf(log + used, 8192 - used, "%s|%s\n", sgs_input_check_name(p->check), p->message);
}

static void test_out_of_range_as_h5dread(void **state)
{
    (void)state;
    char messages[2][1024], logs[2][8192], paths[2][512];
    for (int l = 0; l < 2; l++) {
        layout_t layout = l ? SHUFFLE_DEFLATE : CONTIGUOUS;
        fill_values();
        channels64[77] = 300;
        categories64[500] = INT64_C(1) << 40;
        snprintf(paths[l], sizeof paths[l], "%s/range.h5", dir); /* same name: same messages */
        hid_t file = H5Fcreate(paths[l], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        write_dataset(file, "/transactions/customer_id", H5T_STD_I64LE, layout, H5T_NATIVE_INT64,
                      ids, N);
        write_dataset(file, "/transactions/time", H5T_STD_I64LE, layout, H5T_NATIVE_INT64, times,
                      N);
        write_dataset(file, "/transactions/amount", H5T_IEEE_F64LE, layout, H5T_NATIVE_DOUBLE,
                      amounts, N);
        write_dataset(file, "/transactions/channel", H5T_STD_I16LE, layout, H5T_NATIVE_INT64,
                      channels64, N);
        write_dataset(file, "/transactions/category", H5T_STD_I64LE, layout, H5T_NATIVE_INT64,
                      categories64, N);
        H5Fclose(file);
        assert_int_equal(deferred(paths[l], "/transactions/channel", SGS_H5_INTEGERS),
                         layout == SHUFFLE_DEFLATE);
        for (int nt = 1; nt <= 2; nt++) {
            sgs_read_options_t opt = options(nt == 1 ? 0 : 3, nt, 0);
            sgs_transactions_t t;
            sgs_error_t err = {0};
            assert_int_equal(sgs_h5_read_transactions(paths[l], &opt, &t, NULL, &err), SGS_EDATA);
            if (nt == 1)
                snprintf(messages[l], sizeof messages[l], "%s", err.message);
            else
                assert_string_equal(err.message, messages[l]);
            logs[l][0] = '\0';
            opt.problem = collect;
            opt.problem_ctx = logs[l];
            assert_int_equal(sgs_h5_read_transactions(paths[l], &opt, &t, NULL, &err), 0);
            assert_int_equal(t.channel[77], 255); /* kept, saturated, as H5Dread does */
            assert_int_equal(t.category[500], INT32_MAX);
            sgs_transactions_free(&t);
        }
    }
    sgs_assert_contains(messages[0], "/transactions/channel: row 77: channel 300 does not fit");
    assert_string_equal(messages[1], messages[0]);
    assert_string_equal(logs[1], logs[0]);
    sgs_assert_contains(logs[0], "row 500: category 1099511627776 does not fit in int32");
}

/* ---- Damaged chunks ---------------------------------------------------------------------- */

/* dir/<name>: the native table, shuffle + deflate, with chunk 1 of `dset` (rows 64..127)
 * replaced by `stored` (n bytes, every filter applied). */
static void damaged_table(const char *name, char *path, size_t size, const char *dset,
                          const void *stored, size_t n)
{
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    snprintf(path, size, "%s/%s", dir, name);
    write_table(path, &sets[0], SHUFFLE_DEFLATE);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, dset, H5P_DEFAULT);
    hsize_t offset = CHUNK;
    sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, n, stored), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
}

/* The first problem of reading `path`, the same for 1, 2 and 3 threads and 3-row or whole
 * reads (static buffer). */
static const char *first_problem(const char *path)
{
    static char first[1024];
    for (int nt = 1; nt <= 3; nt++)
        for (int small = 0; small <= 1; small++) {
            sgs_read_options_t opt = options(small ? 3 : 0, nt, 0);
            sgs_transactions_t t;
            sgs_error_t err = {0};
            assert_int_equal(sgs_h5_read_transactions(path, &opt, &t, NULL, &err), SGS_EDATA);
            assert_null(t.amount);
            if (nt == 1 && !small)
                snprintf(first, sizeof first, "%s", err.message);
            else
                assert_string_equal(err.message, first);
        }
    return first;
}

static void test_damaged_chunk_is_refused(void **state)
{
    (void)state;
    char path[512];
    unsigned char data[CHUNK * 8 * 2], z[sizeof data + 64];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 31 % 7);
    uLongf n_z = sizeof z;
    assert_int_equal(compress2(z, &n_z, data, CHUNK * 8, 6), Z_OK);
    /* cut short: the stream does not end */
    damaged_table("broken.h5", path, sizeof path, "/transactions/amount", z, n_z / 2);
    char expect[1024];
    snprintf(expect, sizeof expect,
             "%s: /transactions/amount: rows 64..127 cannot be decoded (a broken compressed "
             "stream): the chunk is damaged",
             path);
    assert_string_equal(first_problem(path), expect);
    /* a whole stream of one row: short */
    n_z = sizeof z;
    assert_int_equal(compress2(z, &n_z, data, 8, 6), Z_OK);
    damaged_table("short.h5", path, sizeof path, "/transactions/time", z, n_z);
    snprintf(expect, sizeof expect,
             "%s: /transactions/time: rows 64..127 decode to 8 bytes, not the 512 their chunk "
             "needs (chunk elements x element size): the chunk is damaged",
             path);
    assert_string_equal(first_problem(path), expect);
    /* twice the chunk: too long (a decompression bomb stops at the chunk's size) */
    n_z = sizeof z;
    assert_int_equal(compress2(z, &n_z, data, sizeof data, 6), Z_OK);
    damaged_table("long.h5", path, sizeof path, "/transactions/category", z, n_z);
    snprintf(expect, sizeof expect,
             "%s: /transactions/category: rows 64..127 decode to more than the 256 bytes their "
             "chunk needs: the chunk is damaged",
             path);
    assert_string_equal(first_problem(path), expect);
    /* the partial last chunk (rows 960..999) is named by its rows */
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    snprintf(path, sizeof path, "%s/last.h5", dir);
    write_table(path, &sets[0], SHUFFLE_DEFLATE);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/transactions/customer_id", H5P_DEFAULT);
    hsize_t offset = 15 * CHUNK;
    sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, 5, "\x78\x9c\x01\x02\x03"), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    sgs_assert_contains(first_problem(path), "/transactions/customer_id: rows 960..999 cannot be "
                                             "decoded (a broken compressed stream)");
}

/* Read in batches of 3 chunks, each read while the one before is decoded: the same values
 * as H5Dread for every layout and thread count, and a damaged chunk in a later batch refused
 * with the same message, before any row problem. */
static void test_batches_read_while_decoding(void **state)
{
    (void)state;
    setenv("SGS_TEST_DECODE_BATCH_CHUNKS", "3", 1);
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    for (int layout = 0; layout < N_LAYOUTS; layout++) {
        char path[512];
        snprintf(path, sizeof path, "%s/batches-%d.h5", dir, layout);
        write_table(path, &sets[1], (layout_t)layout);
        reference_t ref;
        reference_read(path, &ref);
        for (int nt = 1; nt <= 3; nt++)
            for (int as_of = 0; as_of <= 1; as_of++) {
                char what[256];
                snprintf(what, sizeof what, "batches of 3 chunks, %s, %d threads%s",
                         layout_names[layout], nt, as_of ? ", as-of" : "");
                sgs_read_options_t opt = options(0, nt, as_of);
                sgs_read_stats_t stats;
                check_against_h5dread(path, &ref, &opt, &stats, what);
            }
        reference_free(&ref);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/batches-damaged.h5", dir);
    write_table(path, &sets[0], SHUFFLE_DEFLATE);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/transactions/amount", H5P_DEFAULT);
    hsize_t offset = 10 * CHUNK; /* the fourth batch's second chunk */
    sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, 4, "\x78\x9c\x01\x02"), >=, 0);
    H5Dclose(d);
    H5Fclose(file);
    sgs_assert_contains(first_problem(path),
                        "/transactions/amount: rows 640..703 cannot be decoded");
    unsetenv("SGS_TEST_DECODE_BATCH_CHUNKS");
}

/* A damaged chunk comes before every row problem (it is found before any row is read, as the
 * guard found it at open) and before problems the open finds in later columns: a time before
 * 1970 in row 0, a channel column of another length. In collect mode both are reported, in
 * that order. */
static void test_damaged_chunk_comes_first(void **state)
{
    (void)state;
    char path[512];
    unsigned char z[16] = {0x78, 0x9c, 0x01, 0x02};
    types_t sets[N_TYPE_SETS];
    type_sets(sets);
    snprintf(path, sizeof path, "%s/first.h5", dir);
    write_table(path, &sets[0], SHUFFLE_DEFLATE);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/transactions/amount", H5P_DEFAULT);
    hsize_t offset = 10 * CHUNK;
    sgs_assert_cmp(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, 4, z), >=, 0);
    H5Dclose(d);
    d = H5Dopen2(file, "/transactions/time", H5P_DEFAULT);
    int64_t negative = -5;
    hid_t one = H5Screate_simple(1, &(hsize_t){1}, NULL), space = H5Dget_space(d);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &(hsize_t){0}, NULL, &(hsize_t){1}, NULL);
    sgs_assert_cmp(H5Dwrite(d, H5T_NATIVE_INT64, one, space, H5P_DEFAULT, &negative), >=, 0);
    H5Sclose(space);
    H5Sclose(one);
    H5Dclose(d);
    H5Fclose(file);
    sgs_assert_contains(first_problem(path),
                        "/transactions/amount: rows 640..703 cannot be decoded");
    /* a later column of another length: found at open, after the amount column */
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(file, "/transactions/channel", H5P_DEFAULT);
    write_dataset(file, "/transactions/channel", H5T_STD_U8LE, SHUFFLE_DEFLATE, H5T_NATIVE_INT64,
                  channels64, N - 1);
    H5Fclose(file);
    sgs_assert_contains(first_problem(path),
                        "/transactions/amount: rows 640..703 cannot be decoded");
    char log[8192] = "";
    sgs_read_options_t opt = options(0, 2, 0);
    opt.problem = collect;
    opt.problem_ctx = log;
    sgs_transactions_t t;
    sgs_error_t err = {0};
    assert_int_equal(sgs_h5_read_transactions(path, &opt, &t, NULL, &err), SGS_EDATA);
    const char *storage = strstr(log, "storage|"), *length = strstr(log, "length|");
    if (!storage || !length || storage > length)
        fail_msg("expected the damaged chunk, then the length, got:\n%s", log);
}

/* ---- Conversions against H5Tconvert -------------------------------------------------------- */

/* Range exceptions of H5Tconvert abort the conversion, as the reader's checked reads do. */
static H5T_conv_ret_t abort_on_range(H5T_conv_except_t except, hid_t src, hid_t dst, void *s,
                                     void *d, void *user)
{
    (void)src, (void)dst, (void)s, (void)d;
    if (except == H5T_CONV_EXCEPT_RANGE_HI || except == H5T_CONV_EXCEPT_RANGE_LOW) {
        *(int *)user = 1;
        return H5T_CONV_ABORT;
    }
    return H5T_CONV_UNHANDLED;
}

/* Every standard integer type of both orders into each integer column type: values near
 * zero, near every type's limits and random, one at a time, against H5Tconvert with the
 * reader's range check: the same value where it fits, "does not fit" where H5Tconvert's
 * callback fires. One quirk of libhdf5 1.10.8: between integers of the same size and opposite
 * byte orders it only swaps the bytes (H5T__conv_order), sign or not, with no range exception
 * (a big-endian uint32 4294967295 read as int32 -1; any one-byte big-endian integer as a
 * one-byte column); sgs_h5_convert calls such a value out of range, and the reader then reads
 * the column with H5Dread, which gives libhdf5's bytes. */
static void test_convert_integers_as_h5tconvert(void **state)
{
    (void)state;
    hid_t sources[16] = {H5T_STD_I8LE,  H5T_STD_I8BE,  H5T_STD_U8LE,  H5T_STD_U8BE,
                         H5T_STD_I16LE, H5T_STD_I16BE, H5T_STD_U16LE, H5T_STD_U16BE,
                         H5T_STD_I32LE, H5T_STD_I32BE, H5T_STD_U32LE, H5T_STD_U32BE,
                         H5T_STD_I64LE, H5T_STD_I64BE, H5T_STD_U64LE, H5T_STD_U64BE};
    const sgs_h5_type_t dsts[4] = {SGS_H5_I64, SGS_H5_I32, SGS_H5_U8, SGS_H5_I8};
    static const uint64_t edges[] = {0,
                                     1,
                                     UINT64_C(0x7f),
                                     UINT64_C(0x80),
                                     UINT64_C(0xff),
                                     UINT64_C(0x100),
                                     UINT64_C(0x7fff),
                                     UINT64_C(0x8000),
                                     UINT64_C(0xffff),
                                     UINT64_C(0x7fffffff),
                                     UINT64_C(0x80000000),
                                     UINT64_C(0xffffffff),
                                     UINT64_C(0x7fffffffffffffff),
                                     UINT64_C(0x8000000000000000),
                                     ~UINT64_C(0)};
    int flagged = 0, host_big = H5Tget_order(H5T_NATIVE_INT) == H5T_ORDER_BE;
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_type_conv_cb(dxpl, abort_on_range, &flagged);
    for (int s = 0; s < 16; s++)
        for (int d = 0; d < 4; d++) {
            sgs_h5_conv_t c;
            assert_int_equal(sgs_h5_conv_plan(sources[s], dsts[d], &c), 1);
            size_t size = H5Tget_size(sources[s]), dsize = sgs_h5_type_size(dsts[d]);
            int big = H5Tget_order(sources[s]) == H5T_ORDER_BE;
            uint64_t seed = 100 + (uint64_t)(s * 4 + d), rng = seed;
            for (int i = 0; i < 600; i++) {
                uint64_t v = i < 45 ? edges[i / 3] + (uint64_t)(i % 3) - 1 : sgs_test_next(&rng);
                if (i >= 45 && i % 2)
                    v >>= (unsigned)(sgs_test_next(&rng) % 64); /* small values too */
                unsigned char src[8], buf[8] = {0}, got[8] = {0};
                for (size_t b = 0; b < size; b++)
                    src[b] = (unsigned char)(v >> (8 * (big ? size - 1 - b : b)));
                memcpy(buf, src, size);
                flagged = 0;
                herr_t h = H5Tconvert(sources[s], sgs_h5_mem_type(dsts[d]), 1, buf, NULL, dxpl);
                if (h < 0)
                    H5Eclear2(H5E_DEFAULT);
                int fits = h >= 0 && !flagged;
                size_t n = sgs_h5_convert(&c, src, 1, got);
                uint64_t h5 = 0;
                memcpy(&h5, buf, dsize);
                int quirk = fits && n == 0 && size == dsize && big != host_big;
                if (((n == 1) != fits && !quirk) || (n == 1 && memcmp(got, buf, dsize) != 0))
                    fail_msg("seed %llu, value %d (bits 0x%llx) of file type %d into column type "
                             "%d: H5Tconvert %s 0x%llx, sgs_h5_convert %s",
                             (unsigned long long)seed, i, (unsigned long long)v, s, (int)dsts[d],
                             fits ? "gives" : "refuses", (unsigned long long)h5,
                             n == 1 ? "converts" : "refuses");
            }
        }
    H5Pclose(dxpl);
    /* not ours: padded integers, floats into integer columns, integers into float ones */
    sgs_h5_conv_t c;
    hid_t padded = H5Tcopy(H5T_STD_I32LE);
    H5Tset_precision(padded, 20);
    assert_int_equal(sgs_h5_conv_plan(padded, SGS_H5_I64, &c), 0);
    H5Tclose(padded);
    assert_int_equal(sgs_h5_conv_plan(H5T_IEEE_F64LE, SGS_H5_I64, &c), 0);
    assert_int_equal(sgs_h5_conv_plan(H5T_STD_I64LE, SGS_H5_F64, &c), 0);
}

/* Float32 and float64 of both orders into float64: specials and random bit patterns against
 * H5Tconvert, bit for bit. */
static void test_convert_floats_as_h5tconvert(void **state)
{
    (void)state;
    hid_t sources[4] = {H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_IEEE_F64LE, H5T_IEEE_F64BE};
    enum { M = 1 << 16 };
    unsigned char *src = malloc(M * 8), *buf = malloc(M * 8);
    double *got = malloc(M * sizeof *got);
    assert_non_null(src);
    assert_non_null(buf);
    assert_non_null(got);
    for (int s = 0; s < 4; s++) {
        sgs_h5_conv_t c;
        assert_int_equal(sgs_h5_conv_plan(sources[s], SGS_H5_F64, &c), 1);
        size_t size = H5Tget_size(sources[s]);
        int big = H5Tget_order(sources[s]) == H5T_ORDER_BE;
        uint64_t seed = 7 + (uint64_t)s, rng = seed;
        for (size_t i = 0; i < M; i++) {
            uint64_t v = sgs_test_next(&rng);
            unsigned cls = (unsigned)(i % 4); /* NaN or infinity, subnormal or zero, any */
            uint64_t exp_mask = size == 4 ? UINT64_C(0x7f800000) : UINT64_C(0x7ff0000000000000);
            if (cls == 0)
                v |= exp_mask;
            else if (cls == 1)
                v &= ~exp_mask;
            for (size_t b = 0; b < size; b++)
                src[i * size + b] = (unsigned char)(v >> (8 * (big ? size - 1 - b : b)));
        }
        memcpy(buf, src, M * size);
        sgs_assert_cmp(H5Tconvert(sources[s], H5T_NATIVE_DOUBLE, M, buf, NULL, H5P_DEFAULT), >=, 0);
        assert_int_equal(sgs_h5_convert(&c, src, M, got), M);
        for (size_t i = 0; i < M; i++)
            if (memcmp(&got[i], buf + 8 * i, 8) != 0)
                fail_msg("seed %llu, file type %d, element %zu: sgs_h5_convert and H5Tconvert "
                         "differ",
                         (unsigned long long)seed, s, i);
    }
    free(src);
    free(buf);
    sgs_free(got);
}

/* ---- The decode against the guard's decoded size -------------------------------------------- */

/* sgs_h5_chunk_decode gives the result and size sgs_h5_decoded_size gives, for every
 * pipeline and mask, on good streams and on streams cut, extended, and with bytes flipped;
 * where it decodes, the bytes are zlib's output un-shuffled. */
static void test_decode_as_decoded_size(void **state)
{
    (void)state;
    enum { ELEM = 8, ROWS = 50, WANT = ELEM * ROWS };
    unsigned char plain[WANT * 2], shuffled[WANT * 2], out[WANT], tmp[WANT];
    const H5Z_filter_t pipelines[4][2] = {{0, 0},
                                          {H5Z_FILTER_DEFLATE, 0},
                                          {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE},
                                          {H5Z_FILTER_SHUFFLE, 0}};
    const int lengths[4] = {0, 1, 2, 1};
    const uint64_t seed = 99;
    uint64_t rng = seed;
    for (int trial = 0; trial < 3000; trial++) {
        int pl = trial % 4, n = lengths[pl];
        unsigned mask = (unsigned)(sgs_test_next(&rng) % 4) & ((1u << n) - 1u);
        sgs_h5_chunk_pipeline_t p = {n, -1, -1, ELEM};
        for (int i = 0; i < n; i++) {
            if (pipelines[pl][i] == H5Z_FILTER_SHUFFLE)
                p.shuffle_at = i;
            else
                p.deflate_at = i;
        }
        size_t rows = ROWS + (size_t)(sgs_test_next(&rng) % 3) - 1; /* short, exact, long */
        for (size_t i = 0; i < rows * ELEM; i++)
            plain[i] = (unsigned char)(sgs_test_next(&rng) % 5);
        int shuffle = p.shuffle_at >= 0 && !(mask >> p.shuffle_at & 1u);
        int deflate = p.deflate_at >= 0 && !(mask >> p.deflate_at & 1u);
        for (size_t b = 0; b < ELEM; b++)
            for (size_t j = 0; j < rows; j++)
                shuffled[b * rows + j] = plain[j * ELEM + b];
        const unsigned char *stage = shuffle ? shuffled : plain;
        unsigned char stored[WANT * 3];
        size_t n_stored = rows * ELEM;
        if (deflate) {
            uLongf n_z = sizeof stored;
            assert_int_equal(compress2(stored, &n_z, stage, (uLong)(rows * ELEM), 6), Z_OK);
            n_stored = n_z;
            switch (sgs_test_next(&rng) % 4) { /* damage */
            case 0:
                n_stored = (size_t)(sgs_test_next(&rng) % n_stored);
                break;
            case 1:
                stored[sgs_test_next(&rng) % n_stored] ^= (unsigned char)(1 + trial % 255);
                break;
            case 2:
                memset(stored + n_stored, 0xab, 7); /* after the end: ignored */
                n_stored += 7;
                break;
            default:
                break;
            }
        } else {
            memcpy(stored, stage, n_stored);
        }
        size_t n_size = 0, n_dec = 0;
        sgs_h5_decoded_t want =
            sgs_h5_decoded_size(pipelines[pl], n, mask, stored, n_stored, WANT, &n_size);
        sgs_h5_decoded_t got =
            sgs_h5_chunk_decode(&p, mask, stored, n_stored, out, WANT, tmp, &n_dec);
        if (got != want || (got == SGS_H5_DECODED_OK && n_dec != n_size))
            fail_msg("seed %llu, trial %d (pipeline %d, mask %u, %zu stored bytes): decode %d "
                     "(%zu bytes), decoded size %d (%zu bytes)",
                     (unsigned long long)seed, trial, pl, mask, n_stored, (int)got, n_dec,
                     (int)want, n_size);
        /* a stream that decodes whole passed zlib's checksum: it is the data written */
        if (got == SGS_H5_DECODED_OK && n_dec == WANT && memcmp(out, plain, WANT) != 0)
            fail_msg("seed %llu, trial %d: decoded bytes differ", (unsigned long long)seed, trial);
    }
}

/* Un-shuffling inverts HDF5's shuffle for every element size up to 8. */
static void test_unshuffle(void **state)
{
    (void)state;
    unsigned char plain[8 * 37], shuffled[sizeof plain], back[sizeof plain];
    for (size_t size = 1; size <= 8; size++) {
        size_t n = 37;
        for (size_t i = 0; i < n * size; i++)
            plain[i] = (unsigned char)(i * 13 + size);
        for (size_t b = 0; b < size; b++)
            for (size_t j = 0; j < n; j++)
                shuffled[b * n + j] = plain[j * size + b];
        sgs_h5_unshuffle(shuffled, n, size, back);
        assert_memory_equal(back, plain, n * size);
    }
}

/* The pipelines decoded here, and those left to libhdf5. */
static void test_pipelines(void **state)
{
    (void)state;
    sgs_h5_chunk_pipeline_t p;
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t chunk = 8;
    H5Pset_chunk(dcpl, 1, &chunk);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 8, &p), 1); /* no filter */
    assert_int_equal(p.n, 0);
    H5Pset_deflate(dcpl, 9);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 8, &p), 1);
    assert_int_equal(p.deflate_at, 0);
    H5Pset_shuffle(dcpl); /* after deflate: reading un-shuffles before inflating */
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 8, &p), 0);
    H5Pclose(dcpl);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    unsigned four = 4, twelve = 12;
    sgs_assert_cmp(H5Pset_filter(dcpl, H5Z_FILTER_SHUFFLE, H5Z_FLAG_OPTIONAL, 1, &four), >=, 0);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 4, &p), 1);
    assert_int_equal(p.shuffle_at, 0);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 8, &p), 0); /* not the element size */
    sgs_assert_cmp(H5Pset_filter(dcpl, H5Z_FILTER_DEFLATE, H5Z_FLAG_OPTIONAL, 1, &twelve), >=, 0);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 4, &p), 0); /* libhdf5 refuses level 12 */
    H5Pclose(dcpl);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_fletcher32(dcpl);
    assert_int_equal(sgs_h5_chunk_pipeline_get(dcpl, 8, &p), 0);
    H5Pclose(dcpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_as_h5dread),
        cmocka_unit_test(test_batches_read_while_decoding),
        cmocka_unit_test(test_skipped_filters_as_h5dread),
        cmocka_unit_test(test_event_values_as_h5dread),
        cmocka_unit_test(test_out_of_range_as_h5dread),
        cmocka_unit_test(test_damaged_chunk_is_refused),
        cmocka_unit_test(test_damaged_chunk_comes_first),
        cmocka_unit_test(test_convert_integers_as_h5tconvert),
        cmocka_unit_test(test_convert_floats_as_h5tconvert),
        cmocka_unit_test(test_decode_as_decoded_size),
        cmocka_unit_test(test_unshuffle),
        cmocka_unit_test(test_pipelines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
