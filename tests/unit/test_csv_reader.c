/*
 * tests/unit/test_csv_reader.c — the delimited-text tokenizer: quotes (embedded
 * delimiters, doubled quotes, newlines), CRLF, byte order mark, empty fields, blank lines,
 * whitespace mode, long records, and every buffer size from 2 bytes up so that records,
 * quotes, CRLF pairs and the BOM are cut at every possible buffer boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/csv_reader.h"
#include "tests/support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append `text` of `n` bytes to the growing string *out with \n, \r, \t and NUL escaped. */
static void append_escaped(char **out, size_t *used, size_t *cap, const char *text, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char tmp[4] = {text[k], 0, 0, 0};
        if (text[k] == '\n')
            memcpy(tmp, "\\n", 3);
        else if (text[k] == '\r')
            memcpy(tmp, "\\r", 3);
        else if (text[k] == '\t')
            memcpy(tmp, "\\t", 3);
        else if (text[k] == '\0')
            memcpy(tmp, "\\0", 3);
        size_t len = strlen(tmp) ? strlen(tmp) : 1;
        if (*used + len + 1 > *cap) {
            *cap = 2 * (*cap + len);
            *out = realloc(*out, *cap);
            assert_non_null(*out);
        }
        memcpy(*out + *used, tmp, len);
        *used += len;
        (*out)[*used] = '\0';
    }
}

/* Tokenize `data` completely and render every record as "<line>:f1|f2|...\n" (fields
 * escaped). On an error, the rendering ends with "ERROR <code>: <message>". Caller frees. */
static char *tokenize(const char *data, size_t size, sgs_csv_mode_t mode, char delimiter,
                      size_t buffer_bytes)
{
    sgs_csv_options_t opt = {.mode = mode, .delimiter = delimiter, .buffer_bytes = buffer_bytes};
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0};
    assert_int_equal(sgs_csv_open_memory(data, size, "mem.csv", &opt, &r, &err), SGS_OK);
    size_t used = 0, cap = 64;
    char *out = calloc(cap, 1);
    assert_non_null(out);
    sgs_csv_record_t rec;
    int rc;
    while ((rc = sgs_csv_next(r, &rec, &err)) == 1) {
        char head[32];
        snprintf(head, sizeof head, "%llu:", (unsigned long long)rec.line);
        append_escaped(&out, &used, &cap, head, strlen(head));
        for (size_t k = 0; k < rec.n_fields; k++) {
            assert_int_equal(rec.fields[k][rec.length[k]], '\0');
            if (k)
                append_escaped(&out, &used, &cap, "|", 1);
            append_escaped(&out, &used, &cap, rec.fields[k], rec.length[k]);
        }
        if (used + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        out[used++] = '\n';
        out[used] = '\0';
    }
    if (rc < 0) {
        char tail[SGS_ERROR_MESSAGE_MAX + 32];
        snprintf(tail, sizeof tail, "ERROR %d: %s", rc, err.message);
        append_escaped(&out, &used, &cap, tail, strlen(tail));
        /* the error is sticky */
        sgs_error_t again = {0};
        assert_int_equal(sgs_csv_next(r, &rec, &again), rc);
        assert_string_equal(again.message, err.message);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(sgs_csv_next(r, &rec, &err), 0); /* end stays the end */
        assert_int_equal(sgs_csv_bytes_read(r), size);
    }
    sgs_csv_close(r);
    return out;
}

/* Tokenize with the default buffer and with every buffer size 2..limit, and check that all
 * renderings equal `expected`. */
static void check_all_buffers(const char *data, sgs_csv_mode_t mode, char delimiter,
                              const char *expected)
{
    size_t size = strlen(data);
    char *got = tokenize(data, size, mode, delimiter, 0);
    assert_string_equal(got, expected);
    free(got);
    for (size_t b = 2; b <= size + 3; b++) {
        got = tokenize(data, size, mode, delimiter, b);
        if (strcmp(got, expected) != 0)
            fail_msg("buffer %zu bytes:\nexpected:\n%s\ngot:\n%s", b, expected, got);
        free(got);
    }
}

static void test_plain_records_and_empty_fields(void **state)
{
    (void)state;
    check_all_buffers("a,b,c\n1,,3\n,\nx,\n,y\n", SGS_CSV_DELIMITED, ',',
                      "1:a|b|c\n2:1||3\n3:|\n4:x|\n5:|y\n");
    /* no final newline; a last line that is only a delimiter */
    check_all_buffers("a,b\n1,2", SGS_CSV_DELIMITED, ',', "1:a|b\n2:1|2\n");
    check_all_buffers("a,b\n,", SGS_CSV_DELIMITED, ',', "1:a|b\n2:|\n");
    /* one column */
    check_all_buffers("id\n7\n8\n", SGS_CSV_DELIMITED, ',', "1:id\n2:7\n3:8\n");
}

static void test_quotes(void **state)
{
    (void)state;
    /* embedded delimiter, doubled quotes, empty quoted field, quote inside unquoted text */
    check_all_buffers("\"a,b\",\"say \"\"hi\"\"\",\"\",12\" vinyl\n", SGS_CSV_DELIMITED, ',',
                      "1:a,b|say \"hi\"||12\" vinyl\n");
    /* embedded newlines: the next record's line number counts them */
    check_all_buffers("k,v\n1,\"line one\nline two\n\"\n2,z\n", SGS_CSV_DELIMITED, ',',
                      "1:k|v\n2:1|line one\\nline two\\n\n5:2|z\n");
    /* text after the closing quote is kept, as Python's csv module does */
    check_all_buffers("\"ab\"cd,e\n", SGS_CSV_DELIMITED, ',', "1:abcd|e\n");
    /* a quoted field at the very end without newline; a lone quoted empty field is a record */
    check_all_buffers("\"x\"", SGS_CSV_DELIMITED, ',', "1:x\n");
    check_all_buffers("\"\"\n", SGS_CSV_DELIMITED, ',', "1:\n");
}

static void test_unterminated_quote_names_the_line(void **state)
{
    (void)state;
    const char *data = "a,b\n1,2\n3,\"never\nclosed\n";
    char *got = tokenize(data, strlen(data), SGS_CSV_DELIMITED, ',', 0);
    sgs_assert_contains(got, "1:a|b\n2:1|2\nERROR -2: mem.csv:3: quoted field not closed");
    free(got);
    got = tokenize(data, strlen(data), SGS_CSV_DELIMITED, ',', 3);
    sgs_assert_contains(got, "ERROR -2: mem.csv:3: quoted field not closed");
    free(got);
}

static void test_crlf(void **state)
{
    (void)state;
    check_all_buffers("a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n4,\r\n", SGS_CSV_DELIMITED, ',',
                      "1:a|b\n2:1|2\n4:3|x\\r\\ny\n6:4|\n");
    /* a CR inside quotes at the end of the field stays; one outside before LF goes */
    check_all_buffers("\"v\r\"\r\n\"w\r\"", SGS_CSV_DELIMITED, ',', "1:v\\r\n2:w\\r\n");
    /* a CR in the middle of a field is data */
    check_all_buffers("a\rb,c\n", SGS_CSV_DELIMITED, ',', "1:a\\rb|c\n");
}

static void test_byte_order_mark(void **state)
{
    (void)state;
    check_all_buffers("\xEF\xBB\xBF"
                      "InvoiceNo,Quantity\r\n536365,6\r\n",
                      SGS_CSV_DELIMITED, ',', "1:InvoiceNo|Quantity\n2:536365|6\n");
    /* BOM followed by a quoted header */
    check_all_buffers("\xEF\xBB\xBF\"id\"\n1\n", SGS_CSV_DELIMITED, ',', "1:id\n2:1\n");
    /* only a BOM, or a short file */
    check_all_buffers("\xEF\xBB\xBF", SGS_CSV_DELIMITED, ',', "");
    check_all_buffers("\xEF\xBB", SGS_CSV_DELIMITED, ',', "1:\xEF\xBB\n");
    check_all_buffers("", SGS_CSV_DELIMITED, ',', "");
    /* a BOM-like sequence later in the file is data */
    check_all_buffers("a\n\xEF\xBB\xBFz\n", SGS_CSV_DELIMITED, ',', "1:a\n2:\xEF\xBB\xBFz\n");
}

static void test_blank_lines_are_skipped(void **state)
{
    (void)state;
    check_all_buffers("\n\na\n\n\nb\n\n", SGS_CSV_DELIMITED, ',', "3:a\n6:b\n");
    check_all_buffers("\r\n\r\na\r\n", SGS_CSV_DELIMITED, ',', "3:a\n");
}

static void test_other_delimiters(void **state)
{
    (void)state;
    check_all_buffers("a;b;c\n1,5;\"x;y\";\n", SGS_CSV_DELIMITED, ';', "1:a|b|c\n2:1,5|x;y|\n");
    check_all_buffers("a\tb\n1\t\t3\n", SGS_CSV_DELIMITED, '\t', "1:a|b\n2:1||3\n");
}

static void test_whitespace_mode(void **state)
{
    (void)state;
    /* the CDNOW layout: leading blanks, runs of blanks, a header line */
    check_all_buffers(" customer_id  date number_of_cds  dollar_value\n"
                      " 00001 19970101  1   11.77\n"
                      " 00002 19970112  5   77.00\n",
                      SGS_CSV_WHITESPACE, 0,
                      "1:customer_id|date|number_of_cds|dollar_value\n"
                      "2:00001|19970101|1|11.77\n3:00002|19970112|5|77.00\n");
    /* tabs, CRLF, blank and blank-only lines, trailing blanks, no final newline */
    check_all_buffers("1\t2 \t 3 \r\n   \n\t\n\r\n4  5", SGS_CSV_WHITESPACE, 0, "1:1|2|3\n5:4|5\n");
    /* quotes group words; an empty quoted field is a field */
    check_all_buffers("7 \"New York\" \"\" x\n", SGS_CSV_WHITESPACE, 0, "1:7|New York||x\n");
}

/* Records much longer than the initial buffer make it grow; past the limit they fail. */
static void test_long_records(void **state)
{
    (void)state;
    size_t n = 100000;
    char *data = malloc(2 * n + 16);
    assert_non_null(data);
    memset(data, 'x', n);
    memcpy(data + n, ",\"", 2);
    memset(data + n + 2, 'y', n - 10);
    memcpy(data + 2 * n - 8, "\"\nok\n", 6);
    size_t size = strlen(data);

    sgs_csv_options_t opt = {.mode = SGS_CSV_DELIMITED, .buffer_bytes = 64};
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0};
    assert_int_equal(sgs_csv_open_memory(data, size, "long.csv", &opt, &r, &err), SGS_OK);
    sgs_csv_record_t rec;
    assert_int_equal(sgs_csv_next(r, &rec, &err), 1);
    assert_int_equal(rec.n_fields, 2);
    assert_int_equal(rec.length[0], n);
    assert_int_equal(rec.length[1], n - 10);
    assert_int_equal(rec.fields[1][0], 'y');
    assert_int_equal(rec.fields[1][n - 11], 'y');
    assert_int_equal(sgs_csv_next(r, &rec, &err), 1);
    assert_string_equal(rec.fields[0], "ok");
    assert_int_equal(rec.line, 2);
    assert_int_equal(sgs_csv_next(r, &rec, &err), 0);
    sgs_csv_close(r);

    opt.max_record_bytes = 50000;
    assert_int_equal(sgs_csv_open_memory(data, size, "long.csv", &opt, &r, &err), SGS_OK);
    assert_int_equal(sgs_csv_next(r, &rec, &err), SGS_EDATA);
    sgs_assert_contains(err.message, "long.csv:1: record longer than 50000 bytes");
    sgs_csv_close(r);
    free(data);
}

/* Many fields: the field table grows. */
static void test_many_fields(void **state)
{
    (void)state;
    size_t n = 5000;
    char *data = malloc(8 * n);
    assert_non_null(data);
    size_t used = 0;
    for (size_t k = 0; k < n; k++)
        used += (size_t)sprintf(data + used, "%zu%c", k, k + 1 < n ? ',' : '\n');
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0};
    sgs_csv_options_t opt = {.buffer_bytes = 100};
    assert_int_equal(sgs_csv_open_memory(data, used, "wide.csv", &opt, &r, &err), SGS_OK);
    sgs_csv_record_t rec;
    assert_int_equal(sgs_csv_next(r, &rec, &err), 1);
    assert_int_equal(rec.n_fields, n);
    assert_string_equal(rec.fields[0], "0");
    assert_string_equal(rec.fields[1234], "1234");
    assert_string_equal(rec.fields[n - 1], "4999");
    sgs_csv_close(r);
    free(data);
}

/* A real file: read through the file descriptor path; a missing file names itself. */
static void test_file_input(void **state)
{
    (void)state;
    char dir[256], path[512];
    sgs_test_tmpdir("csvreader", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int k = 0; k < 20000; k++)
        fprintf(f, "%d,\"n,%d\"\r\n", k, k * 3);
    fclose(f);
    sgs_csv_reader_t *r = NULL;
    sgs_error_t err = {0};
    sgs_csv_options_t opt = {.buffer_bytes = 4096};
    assert_int_equal(sgs_csv_open(path, &opt, &r, &err), SGS_OK);
    sgs_assert_cmp(sgs_csv_total_bytes(r), >, 0);
    sgs_csv_record_t rec;
    int k = 0;
    char want[64];
    while (sgs_csv_next(r, &rec, &err) == 1) {
        assert_int_equal(rec.n_fields, 2);
        assert_int_equal(atoi(rec.fields[0]), k);
        snprintf(want, sizeof want, "n,%d", k * 3);
        assert_string_equal(rec.fields[1], want);
        assert_int_equal(rec.line, (uint64_t)k + 1);
        k++;
    }
    assert_int_equal(k, 20000);
    assert_int_equal(sgs_csv_bytes_read(r), sgs_csv_total_bytes(r));
    sgs_csv_close(r);

    snprintf(path, sizeof path, "%s/missing.csv", dir);
    assert_int_equal(sgs_csv_open(path, NULL, &r, &err), SGS_ENOINPUT);
    assert_null(r);
    sgs_assert_contains(err.message, "missing.csv: cannot open");
    assert_int_equal(sgs_csv_open(dir, NULL, &r, &err), SGS_ENOINPUT);
    sgs_test_rmdir(dir);
}

/* Randomized: fields with quotes, delimiters, CR/LF written RFC-4180 style must come back
 * exactly, at any buffer size. Seed printed on failure. */
static void test_random_round_trip(void **state)
{
    (void)state;
    const char alphabet[] = "ab,\"\r\n x";
    for (uint64_t seed = 1; seed <= 40; seed++) {
        sgs_rng_t rng;
        sgs_rng_init(&rng, seed, 0);
        size_t n_rec = 1 + sgs_rng_next_u64(&rng) % 6;
        char data[4096], expected[8192];
        size_t du = 0, eu = 0;
        uint64_t line = 1;
        for (size_t rix = 0; rix < n_rec; rix++) {
            size_t nf = 1 + sgs_rng_next_u64(&rng) % 4;
            eu += (size_t)sprintf(expected + eu, "%llu:", (unsigned long long)line);
            int any_content = 0;
            for (size_t fx = 0; fx < nf; fx++) {
                size_t len = sgs_rng_next_u64(&rng) % 6;
                char field[8];
                for (size_t c = 0; c < len; c++)
                    field[c] = alphabet[sgs_rng_next_u64(&rng) % (sizeof alphabet - 1)];
                field[len] = '\0';
                if (fx) {
                    data[du++] = ',';
                    expected[eu++] = '|';
                }
                data[du++] = '"'; /* always quote: every byte is then data */
                for (size_t c = 0; c < len; c++) {
                    if (field[c] == '"')
                        data[du++] = '"';
                    data[du++] = field[c];
                    if (field[c] == '\n')
                        line++;
                    const char *esc = field[c] == '\n' ? "\\n" : field[c] == '\r' ? "\\r" : NULL;
                    if (esc) {
                        memcpy(expected + eu, esc, 2);
                        eu += 2;
                    } else {
                        expected[eu++] = field[c];
                    }
                }
                data[du++] = '"';
                any_content = 1;
            }
            (void)any_content;
            memcpy(data + du, "\r\n", 2);
            du += 2;
            line++;
            expected[eu++] = '\n';
        }
        data[du] = '\0';
        expected[eu] = '\0';
        for (size_t b = 2; b < du + 2; b += 1 + b / 8) {
            char *got = tokenize(data, du, SGS_CSV_DELIMITED, ',', b);
            if (strcmp(got, expected) != 0)
                fail_msg("seed %llu, buffer %zu:\nexpected:\n%s\ngot:\n%s",
                         (unsigned long long)seed, b, expected, got);
            free(got);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_records_and_empty_fields),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_unterminated_quote_names_the_line),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_blank_lines_are_skipped),
        cmocka_unit_test(test_other_delimiters),
        cmocka_unit_test(test_whitespace_mode),
        cmocka_unit_test(test_long_records),
        cmocka_unit_test(test_many_fields),
        cmocka_unit_test(test_file_input),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
