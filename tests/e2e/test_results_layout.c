/*
 * tests/e2e/test_results_layout.c — docs/results-layout.md is the results file. Its tables
 * (groups; datasets with type, rows and condition; attributes with type, shape and condition)
 * are compared, both ways, with the results.h5 of real runs walked with the HDF5 API
 * (H5Ovisit, H5Aiterate): every row whose condition holds in the run is in the file with the
 * documented type and length, every row whose condition does not hold is absent, and every
 * group, dataset and attribute in the file has a row. Lengths are the run's own counts, from
 * its summary.json (customers with a purchase, known customers, listed opportunities, k,
 * features, ...) and the kernels' code tables (stages, channels, ...). A failure lists every
 * difference, each naming the path and what differs.
 *
 * Input: `segscore generate` (2,000 buyers + 200 prospects, events, referrals), and a copy of
 * its /transactions alone, with and without its /events. Six runs, each checked first against the
 * conditions its summary.json reports (a run that did not do what the test asked fails as such, not
 * as a layout error), chosen so that every two conditions differ in at least one of them (a row
 * given the wrong condition fails):
 *   full       the generated input, --compare-as-of, k chosen, 3 principal components, the
 *              model the backtest chooses: every condition but `paretonbd`
 *   paretonbd  transactions only, Pareto/NBD without backtest, k chosen, --compare-as-of
 *   mbgnbd     transactions only, MBG/NBD without backtest, segments.k = 4 with PCA
 *   backtest   transactions only, BG/NBD with the backtest, segments off, --compare-as-of
 *   events     transactions and events (kinds, no channel), --model none, segments off: the
 *              `always` and `events` rows
 *   minimal    transactions only, --model none, segments off: only the `always` rows
 * Last, every documented row must have been in the file of at least one run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "io/h5_columns.h"
#include "kernels/influence.h"
#include "kernels/opportunities.h"
#include "kernels/rfm.h"
#include "kernels/stages.h"
#include "kernels/tables.h"
#include "tests/support/test_support.h"

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOC "docs/results-layout.md"
#define AS_OF "2024-06-30"
#define COMPARE "2024-03-31"
#define MAX_ROWS 400
#define PATH_MAX_LEN 256

static char dir[256], gen[512], tx_only[512], tx_events[512];

/* ---- The documented layout --------------------------------------------------------------- */

typedef enum item_kind { KIND_GROUP, KIND_DATASET, KIND_ATTRIBUTE, KIND_OTHER } item_kind_t;

static const char *const kind_names[] = {"group", "dataset", "attribute", "object"};

/* The conditions of the "when" column, as the page's Conditions table lists them. */
enum {
    C_ALWAYS,
    C_VALUE,
    C_BGNBD_OR_MBGNBD,
    C_PARETONBD,
    C_BACKTEST,
    C_CALIBRATED,
    C_SEGMENTS,
    C_K_CHOSEN,
    C_PCA,
    C_COMPARE,
    C_REFERRALS,
    C_EVENTS,
    C_COUNT
};
static const char *const conditions[C_COUNT] = {
    "always",   "value", "bgnbd or mbgnbd", "paretonbd", "backtest", "calibrated", "segments",
    "k chosen", "pca",   "compare",         "referrals", "events"};

/* The lengths of the "rows" and "shape" columns, as the page's Lengths table lists them. */
static const char *const lengths[] = {"scalar",
                                      "customers",
                                      "known customers",
                                      "opportunities",
                                      "models",
                                      "deciles",
                                      "knots",
                                      "stages",
                                      "cycle sources",
                                      "channels",
                                      "rfm segments",
                                      "opportunity kinds",
                                      "audit stage rows",
                                      "audit rfm rows",
                                      "audit windows",
                                      "list groups",
                                      "referral statuses",
                                      "k",
                                      "features",
                                      "dims",
                                      "features asked",
                                      "merges",
                                      "k table",
                                      "components"};
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])

static const char *const types[] = {"int8", "uint8", "int32", "int64", "float64", "string"};

typedef struct doc_row {
    item_kind_t kind;
    char path[PATH_MAX_LEN]; /* "/customers/customer_id", "/stages@as_of", "/models/<model>@r" */
    char type[16];           /* datasets and attributes */
    char dims[3][64];        /* datasets and attributes: the length names, "" when absent */
    int rank;                /* 0 (scalar), 1, 2 or 3 */
    int when;                /* index in conditions */
    int line;                /* in the page, for messages */
    int seen;                /* found in the file of some run */
} doc_row_t;

static doc_row_t doc[MAX_ROWS];
static size_t n_doc;

static int index_of(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Cell `col` of a table line "| a | b | c |" into out, trimmed of spaces and of one pair of
 * surrounding backticks; 0 when the line has fewer cells. */
static int cell(const char *line, int col, char *out, size_t size)
{
    const char *p = line;
    for (int c = 0; c <= col; c++) {
        p = strchr(p, '|');
        if (!p)
            return 0;
        p++;
    }
    const char *end = strchr(p, '|');
    if (!end)
        return 0;
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    if (end - p >= 2 && *p == '`' && end[-1] == '`') {
        p++;
        end--;
    }
    snprintf(out, size, "%.*s", (int)(end - p), p);
    return 1;
}

/* "k x features" into {"k", "features"} (up to three names); "scalar" into rank 0. Returns
 * the rank, -1 when a name is not a length of the Lengths table (name copied to bad). */
static int parse_dims(const char *text, char dims[3][64], char *bad, size_t bad_size)
{
    char copy[192];
    snprintf(copy, sizeof copy, "%s", text);
    dims[0][0] = dims[1][0] = dims[2][0] = '\0';
    if (strcmp(copy, "scalar") == 0)
        return 0;
    int rank = 0;
    for (char *p = copy; p && rank < 3; rank++) {
        char *x = strstr(p, " x ");
        if (x)
            *x = '\0';
        snprintf(dims[rank], sizeof dims[rank], "%.63s", p);
        p = x ? x + 3 : NULL;
        if (index_of(lengths, N_LENGTHS, dims[rank]) < 1) { /* "scalar" only on its own */
            snprintf(bad, bad_size, "%s", dims[rank]);
            return -1;
        }
    }
    return rank;
}

typedef enum table { T_NONE, T_GROUPS, T_DATASETS, T_ATTRIBUTES, T_CONDITIONS, T_LENGTHS } table_t;

static table_t table_of_header(const char *line)
{
    static const struct {
        const char *header;
        table_t table;
    } headers[] = {{"| group | when | meaning |", T_GROUPS},
                   {"| dataset | type | rows | when | meaning |", T_DATASETS},
                   {"| attribute | type | shape | when | meaning |", T_ATTRIBUTES},
                   {"| when | the item is written when |", T_CONDITIONS},
                   {"| rows | length |", T_LENGTHS}};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        if (strncmp(line, headers[i].header, strlen(headers[i].header)) == 0)
            return headers[i].table;
    return T_NONE;
}

/* One row of a groups, datasets or attributes table into doc[]; fails naming the line. */
static void add_doc_row(table_t table, const char *line, int line_no)
{
    if (n_doc == MAX_ROWS)
        fail_msg(DOC ":%d: more than %d rows: raise MAX_ROWS", line_no, MAX_ROWS);
    doc_row_t *r = &doc[n_doc];
    memset(r, 0, sizeof *r);
    r->line = line_no;
    r->kind = table == T_GROUPS ? KIND_GROUP : table == T_DATASETS ? KIND_DATASET : KIND_ATTRIBUTE;
    char when[64], rows[64], bad[64];
    int when_col = r->kind == KIND_GROUP ? 1 : 3;
    if (!cell(line, 0, r->path, sizeof r->path) || !cell(line, when_col, when, sizeof when) ||
        !cell(line, when_col + 1, rows, sizeof rows)) /* the meaning must be there too */
        fail_msg(DOC ":%d: a %s row needs every column", line_no, kind_names[r->kind]);
    if (r->path[0] != '/')
        fail_msg(DOC ":%d: `%s` is not an absolute path", line_no, r->path);
    if ((strchr(r->path, '@') != NULL) != (r->kind == KIND_ATTRIBUTE))
        fail_msg(DOC ":%d: `%s`: attributes, and only they, are written object@name", line_no,
                 r->path);
    r->when = index_of(conditions, C_COUNT, when);
    if (r->when < 0)
        fail_msg(DOC ":%d: `%s`: condition \"%s\" is not one of the Conditions table", line_no,
                 r->path, when);
    if (r->kind != KIND_GROUP) {
        cell(line, 1, r->type, sizeof r->type);
        cell(line, 2, rows, sizeof rows);
        if (index_of(types, sizeof types / sizeof types[0], r->type) < 0)
            fail_msg(DOC ":%d: `%s`: type \"%s\" is not one of int8, uint8, int32, int64, "
                         "float64, string",
                     line_no, r->path, r->type);
        r->rank = parse_dims(rows, r->dims, bad, sizeof bad);
        if (r->rank < 0)
            fail_msg(DOC ":%d: `%s`: \"%s\" is not a length of the Lengths table", line_no, r->path,
                     bad);
        if (r->kind == KIND_DATASET && r->rank == 0)
            fail_msg(DOC ":%d: `%s`: datasets have rows, not scalar", line_no, r->path);
        if (r->kind == KIND_ATTRIBUTE && r->rank == 2)
            fail_msg(DOC ":%d: `%s`: attributes are scalar or one-dimensional", line_no, r->path);
    }
    for (size_t i = 0; i < n_doc; i++)
        if (doc[i].kind == r->kind && strcmp(doc[i].path, r->path) == 0)
            fail_msg(DOC ":%d: `%s` is also on line %d", line_no, r->path, doc[i].line);
    n_doc++;
}

/* Read the page's tables into doc[]. The Conditions and Lengths tables must list exactly the
 * names this test knows how to evaluate. */
static void parse_doc(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/" DOC, SGS_SOURCE_DIR);
    char *text = sgs_test_read_file(path, NULL);
    if (!text)
        fail_msg("cannot read %s", path);
    n_doc = 0;
    table_t table = T_NONE;
    int line_no = 0, n_conditions = 0, n_lengths = 0;
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        line_no++;
        table_t header = table_of_header(line);
        if (header != T_NONE) {
            table = header;
        } else if (line[0] != '|') {
            table = T_NONE;
        } else if (table != T_NONE && strncmp(line, "| ---", 5) != 0) {
            char name[64];
            if (table == T_CONDITIONS || table == T_LENGTHS) {
                cell(line, 0, name, sizeof name);
                int known = table == T_CONDITIONS ? index_of(conditions, C_COUNT, name)
                                                  : index_of(lengths, N_LENGTHS, name);
                if (known < 0)
                    fail_msg(DOC ":%d: %s \"%s\" is new to tests/e2e/test_results_layout.c: "
                                 "teach the test how to evaluate it",
                             line_no, table == T_CONDITIONS ? "condition" : "length", name);
                *(table == T_CONDITIONS ? &n_conditions : &n_lengths) += 1;
            } else {
                add_doc_row(table, line, line_no);
            }
        }
        line = eol ? eol + 1 : line + strlen(line);
    }
    free(text);
    if (n_conditions != C_COUNT || n_lengths != (int)N_LENGTHS)
        fail_msg(DOC ": the Conditions table has %d of the test's %d conditions and the "
                     "Lengths table %d of its %zu lengths",
                 n_conditions, C_COUNT, n_lengths, N_LENGTHS);
}

/* ---- The file ---------------------------------------------------------------------------- */

typedef struct file_item {
    item_kind_t kind;
    char path[PATH_MAX_LEN];
    char type[48];
    int rank; /* -1 for groups */
    hsize_t dims[3];
} file_item_t;

typedef struct walk {
    file_item_t *items;
    size_t n, cap;
    const char *object; /* path of the object whose attributes are iterated */
} walk_t;

static file_item_t *new_item(walk_t *w)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 256;
        w->items = realloc(w->items, w->cap * sizeof *w->items);
        assert_non_null(w->items);
    }
    file_item_t *it = &w->items[w->n++];
    memset(it, 0, sizeof *it);
    it->rank = -1;
    return it;
}

/* The page's name of an HDF5 type, or a description of what else it is. */
static void type_name(hid_t t, char *out, size_t size)
{
    H5T_class_t c = H5Tget_class(t);
    size_t bits = 8 * H5Tget_size(t);
    const char *order = H5Tget_order(t) == H5T_ORDER_BE ? " big-endian" : "";
    if (c == H5T_INTEGER)
        snprintf(out, size, "%sint%zu%s", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits, order);
    else if (c == H5T_FLOAT)
        snprintf(out, size, "float%zu%s", bits, order);
    else if (c == H5T_STRING && H5Tis_variable_str(t) > 0 && H5Tget_cset(t) == H5T_CSET_UTF8)
        snprintf(out, size, "string");
    else if (c == H5T_STRING)
        snprintf(out, size, "string (not variable-length UTF-8)");
    else
        snprintf(out, size, "HDF5 type class %d", (int)c);
}

static void shape_of(hid_t space, file_item_t *it)
{
    it->rank = H5Sget_simple_extent_ndims(space);
    sgs_assert_cmp(it->rank, >=, 0);
    if (it->rank > 0 && it->rank <= 3) /* more is never documented: a rank mismatch */
        H5Sget_simple_extent_dims(space, it->dims, NULL);
}

static herr_t on_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    walk_t *w = data;
    file_item_t *it = new_item(w);
    it->kind = KIND_ATTRIBUTE;
    snprintf(it->path, sizeof it->path, "%s@%s", w->object, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    sgs_assert_cmp(a, >=, 0);
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    type_name(t, it->type, sizeof it->type);
    shape_of(s, it);
    H5Tclose(t);
    H5Sclose(s);
    H5Aclose(a);
    return 0;
}

#if H5_VERSION_GE(1, 12, 0)
typedef H5O_info2_t object_info_t;
#define VISIT(f, op, data) H5Ovisit3((f), H5_INDEX_NAME, H5_ITER_INC, (op), (data), H5O_INFO_BASIC)
#else
typedef H5O_info_t object_info_t;
#define VISIT(f, op, data) H5Ovisit2((f), H5_INDEX_NAME, H5_ITER_INC, (op), (data), H5O_INFO_BASIC)
#endif

static herr_t on_object(hid_t root, const char *name, const object_info_t *info, void *data)
{
    walk_t *w = data;
    file_item_t *it = new_item(w);
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s%s", "/", strcmp(name, ".") == 0 ? "" : name);
    snprintf(it->path, sizeof it->path, "%s", path);
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    sgs_assert_cmp(o, >=, 0);
    if (info->type == H5O_TYPE_GROUP) {
        it->kind = KIND_GROUP;
    } else if (info->type == H5O_TYPE_DATASET) {
        it->kind = KIND_DATASET;
        hid_t t = H5Dget_type(o), s = H5Dget_space(o);
        type_name(t, it->type, sizeof it->type);
        shape_of(s, it);
        H5Tclose(t);
        H5Sclose(s);
    } else {
        it->kind = KIND_OTHER;
    }
    w->object = path;
    hsize_t at = 0;
    herr_t rc = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &at, on_attribute, w);
    w->object = NULL;
    H5Oclose(o);
    return rc < 0 ? -1 : 0;
}

/* Every group, dataset and attribute of the file at `path`. */
static walk_t walk_file(const char *path)
{
    walk_t w = {0};
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        fail_msg("cannot open %s", path);
    if (VISIT(f, on_object, &w) < 0)
        fail_msg("%s: walking the file failed", path);
    H5Fclose(f);
    return w;
}

/* ---- A run and what it holds ------------------------------------------------------------- */

typedef struct run {
    const char *name;
    char results[600];
    cJSON *summary;
    char model[16]; /* the purchase model, "" without the value step */
    int holds[C_COUNT];
    long knots; /* bound by the first `knots` dataset met, -1 before */
} run_t;

static cJSON *json_at(const cJSON *root, const char *a, const char *b, const char *c)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, a);
    if (o && b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (o && c)
        o = cJSON_GetObjectItemCaseSensitive(o, c);
    return (cJSON *)o;
}

/* A count of the run's summary.json (a number, or the size of an array or object). */
static long summary_count(const run_t *r, const char *a, const char *b, const char *c)
{
    const cJSON *o = json_at(r->summary, a, b, c);
    if (!o)
        fail_msg("run %s: summary.json has no %s%s%s%s%s", r->name, a, b ? "." : "", b ? b : "",
                 c ? "." : "", c ? c : "");
    return cJSON_IsNumber(o) ? (long)o->valuedouble : (long)cJSON_GetArraySize(o);
}

/* Run `segscore run` on `input` with `args` into <dir>/<name>/, read its summary.json and
 * work out which conditions hold from it; fail unless they are exactly `expected` (a mask of
 * conditions, the model-specific ones excluded: those follow the model). */
static void run(run_t *r, const char *name, const char *input, const char *args, unsigned expected,
                const char *expected_model)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->knots = -1;
    char sub[512], cmd[2048], out[8192], path[700];
    snprintf(sub, sizeof sub, "%s/%s", dir, name);
    mkdir(sub, 0755);
    snprintf(r->results, sizeof r->results, "%s/results.h5", sub);
    snprintf(cmd, sizeof cmd, "run -q -i '%s' -o '%s' --as-of " AS_OF " %s", input, r->results,
             args);
    int status = sgs_test_run(cmd, out, sizeof out);
    if (status != 0)
        fail_msg("segscore %s failed (%d): %s", cmd, status, out);
    snprintf(path, sizeof path, "%s/summary.json", sub);
    char *text = sgs_test_read_file(path, NULL);
    assert_non_null(text);
    r->summary = cJSON_Parse(text);
    free(text);
    assert_non_null(r->summary);

    const cJSON *value = json_at(r->summary, "value", NULL, NULL);
    const cJSON *segments = json_at(r->summary, "segments", NULL, NULL);
    const cJSON *backtest = json_at(r->summary, "value", "backtest", NULL);
    const char *model = cJSON_GetStringValue(json_at(value, "model", NULL, NULL));
    snprintf(r->model, sizeof r->model, "%s", model ? model : "");
    r->holds[C_ALWAYS] = 1;
    r->holds[C_VALUE] = value != NULL;
    r->holds[C_BACKTEST] = cJSON_IsTrue(json_at(backtest, "ran", NULL, NULL));
    r->holds[C_CALIBRATED] = r->holds[C_BACKTEST] && json_at(backtest, "used_model", NULL, NULL);
    r->holds[C_SEGMENTS] = segments != NULL;
    r->holds[C_K_CHOSEN] = cJSON_GetArraySize(json_at(segments, "k_table", NULL, NULL)) > 0;
    r->holds[C_PCA] = json_at(segments, "pca_explained_variance_ratio", NULL, NULL) != NULL;
    r->holds[C_COMPARE] = json_at(r->summary, "stages", "compare_as_of", NULL) != NULL;
    r->holds[C_REFERRALS] = json_at(r->summary, "influence", NULL, NULL) != NULL;
    r->holds[C_EVENTS] = cJSON_IsTrue(json_at(r->summary, "optional_inputs", "events", NULL));
    for (int c = 0; c < C_COUNT; c++)
        if (c != C_BGNBD_OR_MBGNBD && c != C_PARETONBD &&
            r->holds[c] != (int)((expected >> c) & 1u))
            fail_msg("run %s (%s): summary.json says that `%s` %s, the test expects it %s", name,
                     args, conditions[c], r->holds[c] ? "holds" : "does not hold",
                     r->holds[c] ? "not to" : "to");
    if (expected_model && strcmp(r->model, expected_model) != 0)
        fail_msg("run %s: the model is \"%s\", the test expects \"%s\"", name, r->model,
                 expected_model);
    r->holds[C_BGNBD_OR_MBGNBD] =
        value && (strcmp(r->model, "bgnbd") == 0 || strcmp(r->model, "mbgnbd") == 0);
    r->holds[C_PARETONBD] = value && strcmp(r->model, "paretonbd") == 0;
}

/* The number a length name stands for in this run; -1 for `knots` before it is bound. */
static long length_value(run_t *r, const char *name)
{
    const char *s = "segments";
    if (strcmp(name, "customers") == 0)
        return summary_count(r, "customers", "with_purchases", NULL);
    if (strcmp(name, "known customers") == 0)
        return summary_count(r, "stages", "customers", NULL);
    if (strcmp(name, "opportunities") == 0)
        return summary_count(r, "opportunities", "listed", NULL);
    if (strcmp(name, "models") == 0)
        return summary_count(r, "value", "backtest", "models");
    if (strcmp(name, "deciles") == 0)
        return cJSON_GetArraySize(json_at(json_at(r->summary, "value", "backtest", "reliability"),
                                          "customers", NULL, NULL));
    if (strcmp(name, "knots") == 0)
        return r->knots;
    if (strcmp(name, "stages") == 0)
        return SGS_STAGE_COUNT;
    if (strcmp(name, "cycle sources") == 0)
        return SGS_CYCLE_SOURCE_COUNT;
    if (strcmp(name, "channels") == 0)
        return SGS_CHANNEL_COUNT;
    if (strcmp(name, "rfm segments") == 0)
        return SGS_RFM_SEGMENT_COUNT;
    if (strcmp(name, "opportunity kinds") == 0)
        return SGS_OPP_KIND_COUNT;
    if (strcmp(name, "audit stage rows") == 0)
        return SGS_STAGE_COUNT + 1;
    if (strcmp(name, "audit rfm rows") == 0)
        return SGS_RFM_SEGMENT_COUNT + 2;
    if (strcmp(name, "audit windows") == 0)
        return 2;
    if (strcmp(name, "list groups") == 0)
        return 2; /* treatment, control */
    if (strcmp(name, "referral statuses") == 0)
        return SGS_REFERRAL_CYCLE + 1;
    if (strcmp(name, "k") == 0)
        return summary_count(r, s, "k", NULL);
    if (strcmp(name, "features") == 0)
        return summary_count(r, s, "features", NULL);
    if (strcmp(name, "dims") == 0)
        return r->holds[C_PCA] ? summary_count(r, s, "pca_explained_variance_ratio", NULL)
                               : summary_count(r, s, "features", NULL);
    if (strcmp(name, "features asked") == 0)
        return summary_count(r, s, "feature_checks", NULL);
    if (strcmp(name, "merges") == 0)
        return summary_count(r, s, "merged", NULL);
    if (strcmp(name, "k table") == 0)
        return summary_count(r, s, "k_table", NULL);
    if (strcmp(name, "components") == 0)
        return summary_count(r, s, "pca_explained_variance_ratio", NULL);
    fail_msg("length \"%s\" has no value in the test", name);
    return -1;
}

/* ---- Comparing --------------------------------------------------------------------------- */

static char problems[16384];
static size_t n_problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
    size_t used = strlen(problems);
    if (used + 2 >= sizeof problems)
        return;
    va_list ap;
    va_start(ap, fmt);
    problems[used++] = '\n';
    vsnprintf(problems + used, sizeof problems - used, fmt, ap);
    va_end(ap);
    n_problems++;
}

/* The documented path with `<model>` replaced by the run's model. */
static void concrete_path(const run_t *r, const char *pattern, char *out, size_t size)
{
    const char *at = strstr(pattern, "<model>");
    if (!at || !r->model[0])
        snprintf(out, size, "%s", pattern);
    else
        snprintf(out, size, "%.*s%s%s", (int)(at - pattern), pattern, r->model, at + 7);
}

static doc_row_t *doc_row_for(const run_t *r, const file_item_t *it)
{
    char path[PATH_MAX_LEN + 16];
    for (size_t i = 0; i < n_doc; i++) {
        if (doc[i].kind != it->kind)
            continue;
        concrete_path(r, doc[i].path, path, sizeof path);
        if (strcmp(path, it->path) == 0)
            return &doc[i];
    }
    return NULL;
}

/* Type and length of a file item against its row. */
static void compare_item(run_t *r, const doc_row_t *d, const file_item_t *it)
{
    const char *what = kind_names[it->kind];
    if (strcmp(d->type, it->type) != 0)
        problem("%s %s: type %s in the file, %s in the page (line %d)", what, it->path, it->type,
                d->type, d->line);
    if (d->rank != it->rank) {
        problem("%s %s: %d dimension(s) in the file, %d in the page (line %d)", what, it->path,
                it->rank, d->rank, d->line);
        return;
    }
    for (int k = 0; k < d->rank; k++) {
        long want = length_value(r, d->dims[k]);
        long got = (long)it->dims[k];
        if (strcmp(d->dims[k], "knots") == 0 && want < 0) {
            if (got < 1)
                problem("%s %s: %ld knots, the page says at least 1", what, it->path, got);
            r->knots = want = got;
        }
        if (got != want)
            problem("%s %s: dimension %d is %ld in the file; the page (line %d) says %s, %ld in "
                    "this run",
                    what, it->path, k + 1, got, d->line, d->dims[k], want);
    }
}

/* Both ways: everything in the file has a row of the page whose condition holds, with the
 * documented type and length; every row whose condition holds is in the file. */
static void check_run(run_t *r)
{
    walk_t w = walk_file(r->results);
    problems[0] = '\0';
    n_problems = 0;
    sgs_assert_cmp(w.n, >=, 10);
    for (size_t i = 0; i < w.n; i++) {
        const file_item_t *it = &w.items[i];
        doc_row_t *d = doc_row_for(r, it);
        if (!d) {
            problem("%s %s is in the file but not in the page", kind_names[it->kind], it->path);
            continue;
        }
        d->seen = 1;
        if (!r->holds[d->when])
            problem("%s %s is in the file, but the page (line %d) writes it only when `%s`, "
                    "which does not hold in this run",
                    kind_names[it->kind], it->path, d->line, conditions[d->when]);
        if (it->kind != KIND_GROUP)
            compare_item(r, d, it);
    }
    for (size_t i = 0; i < n_doc; i++) {
        if (!r->holds[doc[i].when])
            continue;
        char path[PATH_MAX_LEN + 16];
        concrete_path(r, doc[i].path, path, sizeof path);
        int found = 0;
        for (size_t j = 0; j < w.n && !found; j++)
            found = w.items[j].kind == doc[i].kind && strcmp(w.items[j].path, path) == 0;
        if (!found)
            problem("%s %s is in the page (line %d, when `%s`) but not in the file",
                    kind_names[doc[i].kind], path, doc[i].line, conditions[doc[i].when]);
    }
    free(w.items);
    if (n_problems > 0)
        fail_msg("run %s: %zu difference(s) between " DOC " and %s:%s", r->name, n_problems,
                 r->results, problems);
}

/* ---- Tests ------------------------------------------------------------------------------- */

#define HOLDS(c) (1u << (c))

static void test_the_page_s_tables_are_well_formed(void **state)
{
    (void)state;
    parse_doc(); /* fails naming the line of a malformed row */
    size_t groups = 0, datasets = 0, attributes = 0;
    for (size_t i = 0; i < n_doc; i++) {
        groups += doc[i].kind == KIND_GROUP;
        datasets += doc[i].kind == KIND_DATASET;
        attributes += doc[i].kind == KIND_ATTRIBUTE;
    }
    sgs_assert_cmp(groups, >=, 15);
    sgs_assert_cmp(datasets, >=, 90);
    sgs_assert_cmp(attributes, >=, 90);
    /* every item's object is a documented group (or, for an attribute, a dataset) */
    for (size_t i = 0; i < n_doc; i++) {
        if (strcmp(doc[i].path, "/") == 0)
            continue;
        char parent[PATH_MAX_LEN];
        snprintf(parent, sizeof parent, "%s", doc[i].path);
        char *cut = doc[i].kind == KIND_ATTRIBUTE ? strchr(parent, '@') : strrchr(parent, '/');
        if (cut == parent)
            cut++; /* the root */
        *cut = '\0';
        int found = 0;
        for (size_t j = 0; j < n_doc && !found; j++)
            found = (doc[j].kind == KIND_GROUP ||
                     (doc[i].kind == KIND_ATTRIBUTE && doc[j].kind == KIND_DATASET)) &&
                    strcmp(doc[j].path, parent) == 0;
        if (!found)
            fail_msg(DOC ":%d: `%s` is in %s, which has no row", doc[i].line, doc[i].path, parent);
    }
}

/* One run, checked; its conditions are kept for test_the_runs_tell_every_condition_apart. */
static int run_holds[8][C_COUNT];
static size_t n_runs;

static void run_and_check(const char *name, const char *input, const char *args, unsigned expected,
                          const char *expected_model)
{
    run_t r;
    run(&r, name, input, args, expected, expected_model);
    sgs_assert_cmp(n_runs, <, sizeof run_holds / sizeof run_holds[0]);
    memcpy(run_holds[n_runs++], r.holds, sizeof r.holds);
    check_run(&r);
    cJSON_Delete(r.summary);
}

static void test_a_run_with_everything(void **state)
{
    (void)state;
    run_and_check("full", gen,
                  "--compare-as-of " COMPARE " --set segments.k=0 --set segments.pca_components=3",
                  HOLDS(C_ALWAYS) | HOLDS(C_VALUE) | HOLDS(C_BACKTEST) | HOLDS(C_CALIBRATED) |
                      HOLDS(C_SEGMENTS) | HOLDS(C_K_CHOSEN) | HOLDS(C_PCA) | HOLDS(C_COMPARE) |
                      HOLDS(C_REFERRALS) | HOLDS(C_EVENTS),
                  NULL);
}

static void test_pareto_nbd_k_chosen_compare(void **state)
{
    (void)state;
    run_and_check("paretonbd", tx_only,
                  "--model paretonbd --set value.backtest=false --set segments.k=0 "
                  "--compare-as-of " COMPARE,
                  HOLDS(C_ALWAYS) | HOLDS(C_VALUE) | HOLDS(C_SEGMENTS) | HOLDS(C_K_CHOSEN) |
                      HOLDS(C_COMPARE),
                  "paretonbd");
}

static void test_mbg_nbd_pca_fixed_k(void **state)
{
    (void)state;
    run_and_check("mbgnbd", tx_only,
                  "--model mbgnbd --set value.backtest=false --set segments.k=4 "
                  "--set segments.pca_components=3",
                  HOLDS(C_ALWAYS) | HOLDS(C_VALUE) | HOLDS(C_SEGMENTS) | HOLDS(C_PCA), "mbgnbd");
}

static void test_backtest_compare_no_segments(void **state)
{
    (void)state;
    run_and_check("backtest", tx_only,
                  "--model bgnbd --set segments.enabled=false --compare-as-of " COMPARE,
                  HOLDS(C_ALWAYS) | HOLDS(C_VALUE) | HOLDS(C_BACKTEST) | HOLDS(C_CALIBRATED) |
                      HOLDS(C_COMPARE),
                  "bgnbd");
}

static void test_events_no_value_no_segments(void **state)
{
    (void)state;
    run_and_check("events", tx_events, "--model none --set segments.enabled=false",
                  HOLDS(C_ALWAYS) | HOLDS(C_EVENTS), NULL);
}

static void test_only_transactions_no_value_no_segments(void **state)
{
    (void)state;
    run_and_check("minimal", tx_only, "--model none --set segments.enabled=false", HOLDS(C_ALWAYS),
                  NULL);
}

/* A row given the wrong condition is caught only by a run where the right and the wrong one
 * differ: the runs above are chosen so that every two conditions differ in one of them. Not
 * `backtest` and `calibrated`: only a configured model that cannot be fitted on the
 * backtest's history separates them, which no input of this test makes happen. */
static void test_the_runs_tell_every_condition_apart(void **state)
{
    (void)state;
    for (int a = 0; a < C_COUNT; a++)
        for (int b = a + 1; b < C_COUNT; b++) {
            if (a == C_BACKTEST && b == C_CALIBRATED)
                continue;
            int apart = 0;
            for (size_t k = 0; k < n_runs; k++)
                apart |= run_holds[k][a] != run_holds[k][b];
            if (!apart)
                fail_msg("no run tells `%s` from `%s`: a row with one for the other would pass",
                         conditions[a], conditions[b]);
        }
}

/* After the runs: a row no run wrote is either wrong or needs a run that writes it. */
static void test_every_row_was_seen_in_some_run(void **state)
{
    (void)state;
    problems[0] = '\0';
    n_problems = 0;
    for (size_t i = 0; i < n_doc; i++)
        if (!doc[i].seen)
            problem("%s %s (line %d, when `%s`)", kind_names[doc[i].kind], doc[i].path, doc[i].line,
                    conditions[doc[i].when]);
    if (n_problems > 0)
        fail_msg("%zu row(s) of " DOC " were in the file of no run:%s", n_problems, problems);
}

/* ---- Setup ------------------------------------------------------------------------------- */

/* The generated file's /transactions alone (no /events, no /customers), or with /events. */
static void write_copy(const char *path, int with_events)
{
    hid_t src = H5Fopen(gen, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dst = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    sgs_assert_cmp(src, >=, 0);
    sgs_assert_cmp(dst, >=, 0);
    size_t n;
    const char *names[] = {"/transactions/customer_id", "/transactions/time", "/events/customer_id",
                           "/events/time"};
    for (int k = 0; k < (with_events ? 4 : 2); k++) {
        int64_t *v = sgs_test_column(src, names[k], SGS_H5_I64, &n);
        sgs_assert_cmp(sgs_h5_write_column(dst, names[k], SGS_H5_I64, v, n, 0, NULL), ==, 0);
        sgs_free(v);
    }
    double *amount = sgs_test_column(src, "/transactions/amount", SGS_H5_F64, &n);
    sgs_assert_cmp(sgs_h5_write_column(dst, "/transactions/amount", SGS_H5_F64, amount, n, 0, NULL),
                   ==, 0);
    sgs_free(amount);
    if (with_events) {
        uint8_t *kind = sgs_test_column(src, "/events/kind", SGS_H5_U8, &n);
        sgs_assert_cmp(sgs_h5_write_column(dst, "/events/kind", SGS_H5_U8, kind, n, 0, NULL), ==,
                       0);
        sgs_free(kind);
    }
    H5Fclose(src);
    H5Fclose(dst);
}

static int setup(void **state)
{
    (void)state;
    sgs_h5_quiet();
    sgs_test_tmpdir("e2e-layout", dir, sizeof dir);
    snprintf(gen, sizeof gen, "%s/gen.h5", dir);
    snprintf(tx_only, sizeof tx_only, "%s/transactions-only.h5", dir);
    char args[1024], out[8192];
    snprintf(args, sizeof args, "generate -q --customers 2000 --seed 5 -o '%s'", gen);
    int status = sgs_test_run(args, out, sizeof out);
    if (status != 0) {
        print_error("generate failed (%d): %s\n", status, out);
        return -1;
    }
    snprintf(tx_events, sizeof tx_events, "%s/transactions-events.h5", dir);
    write_copy(tx_only, 0);
    write_copy(tx_events, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sgs_test_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_page_s_tables_are_well_formed),
        cmocka_unit_test(test_a_run_with_everything),
        cmocka_unit_test(test_pareto_nbd_k_chosen_compare),
        cmocka_unit_test(test_mbg_nbd_pca_fixed_k),
        cmocka_unit_test(test_events_no_value_no_segments),
        cmocka_unit_test(test_backtest_compare_no_segments),
        cmocka_unit_test(test_only_transactions_no_value_no_segments),
        cmocka_unit_test(test_the_runs_tell_every_condition_apart),
        cmocka_unit_test(test_every_row_was_seen_in_some_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
