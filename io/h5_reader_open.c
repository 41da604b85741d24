/*
 * io/h5_reader_open.c — open an input table: the file, the group and its columns, each
 * checked (through io/h5_guard.h) before a byte of data is read. See h5_input.h.
 *
 * Sections: files; names for "did you mean"; columns (the guard's rule, the chunk cache);
 * the group.
 */
#include "io/h5_input.h"

#include "io/h5_guard.h"
#include "io/h5_reader_internal.h"
#include "io/suggest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_CHUNKS ((size_t)4)          /* chunks a compressed dataset's cache holds, at least */
#define CACHE_MIN_BYTES ((size_t)1 << 20) /* and bytes, see h5_input.h */
#define MAX_NAMES 64                      /* link names remembered per group for suggestions */

/* ---- Files ---------------------------------------------------------------------------- */

/* Open `r->file` read-only: SGS_ENOINPUT when it is missing or unreadable, SGS_EDATA when
 * it is not HDF5. */
int sgs__reader_open_file(reporter_t *r, hid_t *out)
{
    *out = -1;
    struct stat st;
    if (stat(r->file, &st) != 0) {
        sgs__reader_report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW, "%s",
                           errno == ENOENT ? "no such file" : strerror(errno));
        return SGS_ENOINPUT;
    }
    if (S_ISDIR(st.st_mode)) {
        sgs__reader_report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW,
                           "is a directory, not a file");
        return SGS_ENOINPUT;
    }
    if (access(r->file, R_OK) != 0) {
        sgs__reader_report(r, SGS_CHECK_FILE, SGS_ENOINPUT, "", SGS_NO_ROW, "cannot read: %s",
                           strerror(errno));
        return SGS_ENOINPUT;
    }
    sgs_h5_quiet();
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_h5 = H5Fis_accessible(r->file, H5P_DEFAULT);
#else
    htri_t is_h5 = H5Fis_hdf5(r->file);
#endif
    if (is_h5 <= 0) {
        sgs__reader_report(r, SGS_CHECK_FILE, SGS_EDATA, "", SGS_NO_ROW, "not an HDF5 file");
        return SGS_EDATA;
    }
    *out = H5Fopen(r->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*out < 0) { /* locked (75), truncated or malformed (65), I/O (74): h5_guard.h */
        sgs_h5_refusal_t why;
        int code = sgs_h5_guard_open_failure(r->file, &why);
        sgs__reader_report(r, SGS_CHECK_FILE, code, "", SGS_NO_ROW, "%s", why.text);
        return code;
    }
    return SGS_OK;
}

/* Type of the object at path: H5I_GROUP, H5I_DATASET, other, or H5I_BADID when absent.
 * A link that cannot be looked up or an object that cannot be opened is not "absent": it is
 * reported at `path` (65 for malformed metadata, HDF5's cause with it) and its code
 * returned, with *type H5I_BADID. lapl: the link access list (external links refused,
 * h5_guard.h). */
static int object_type(reporter_t *rep, hid_t file, const char *path, hid_t lapl, H5I_type_t *type)
{
    *type = H5I_BADID;
    htri_t exists = H5Lexists(file, path, lapl);
    if (exists == 0)
        return SGS_OK;
    hid_t obj = exists > 0 ? H5Oopen(file, path, lapl) : -1;
    if (obj < 0) {
        char cause[256];
        int code = sgs_h5_guard_read_failure(cause, sizeof cause);
        sgs__reader_report(rep, SGS_CHECK_FILE, code, path, SGS_NO_ROW, "cannot be %s%s%s%s",
                           exists > 0 ? "opened" : "looked up",
                           code == SGS_EDATA ? ": the file's metadata is malformed" : "",
                           *cause ? ": " : "", cause);
        return code; /* fatal: the rest of the file's structure is not to be trusted */
    }
    *type = H5Iget_type(obj);
    H5Oclose(obj);
    return SGS_OK;
}

/* ---- Names for "did you mean" ----------------------------------------------------------- */

/* Link names of one group, for "did you mean". */
typedef struct name_list {
    size_t n;
    char names[MAX_NAMES][64];
} name_list_t;

static herr_t collect_name(hid_t group, const char *name, const sgs_link_info_t *info, void *data)
{
    (void)group;
    (void)info;
    name_list_t *list = data;
    if (list->n < MAX_NAMES && strlen(name) < sizeof list->names[0])
        snprintf(list->names[list->n++], sizeof list->names[0], "%s", name);
    return 0;
}

/* Names of the links in group `group` (an open group or file id). */
static void list_names(hid_t group, name_list_t *list)
{
    list->n = 0;
    hsize_t idx = 0;
    SGS_LITERATE(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, list);
}

/* Suggestion for a missing `name` among `list` minus the names in `known` (those are
 * recognized already): "; did you mean /g/x?" when one is close, else what the group has. */
static void suggest(const char *group, const char *name, const name_list_t *list,
                    const char *const *known, size_t n_known, char *buf, size_t size)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, used = 0;
    char others[256] = "";
    for (size_t i = 0; i < list->n; i++) {
        int is_known = 0;
        for (size_t k = 0; k < n_known; k++)
            is_known |= strcmp(list->names[i], known[k]) == 0;
        if (is_known)
            continue;
        size_t d = sgs_edit_distance(name, strlen(name), list->names[i], strlen(list->names[i]), 0);
        if (d < best_d) {
            best_d = d;
            best = list->names[i];
        }
        if (used < sizeof others) {
            int w = snprintf(others + used, sizeof others - used, "%s%s", used ? ", " : "",
                             list->names[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    size_t limit = strlen(name) / 2 > 2 ? strlen(name) / 2 : 2;
    if (best && best_d <= limit)
        snprintf(buf, size, "; did you mean %s/%s?", strcmp(group, "/") ? group : "", best);
    else if (best)
        snprintf(buf, size, " (%s has: %s)", group, others);
    else
        snprintf(buf, size, " (%s has no other entries)", group);
}

/* ---- Columns -------------------------------------------------------------------------- */

/* The widest element a column accepts in the file: 8 bytes, the widest native type, for
 * every column (docs/input.md "Input schema": integers of any width up to 64 bits are converted
 * and range-checked, floats of 32 or 64 bits). Wider types are refused before any read
 * (h5_guard.h): libhdf5's conversion of very wide integers reads past its buffers. */
#define MAX_ELEMENT_BYTES ((size_t)8)

/* The guard's rule for a column. */
sgs_h5_column_rule_t sgs__reader_column_rule(const column_spec_t *spec)
{
    const char *type_name = "int64";
    switch (spec->type) {
    case SGS_H5_I64:
        break;
    case SGS_H5_I32:
        type_name = "int32";
        break;
    case SGS_H5_U8:
        type_name = "uint8";
        break;
    case SGS_H5_I8:
        type_name = "int8";
        break;
    case SGS_H5_F64:
        type_name = "float64";
        break;
    }
    return (sgs_h5_column_rule_t){spec->name, spec->is_float ? SGS_H5_FLOATS : SGS_H5_INTEGERS,
                                  MAX_ELEMENT_BYTES, type_name};
}

/* Map a guard refusal to the reader's check. */
sgs_input_check_t sgs__reader_refusal_check(sgs_h5_refusal_kind_t kind)
{
    switch (kind) {
    case SGS_H5_REFUSE_LINK:
        return SGS_CHECK_LINK;
    case SGS_H5_REFUSE_STORAGE:
        return SGS_CHECK_STORAGE;
    case SGS_H5_REFUSE_FILTER:
        return SGS_CHECK_FILTER;
    case SGS_H5_REFUSE_TYPE:
        return SGS_CHECK_TYPE;
    case SGS_H5_REFUSE_FILE:
        break;
    }
    return SGS_CHECK_FILE;
}

/* Reopen a dataset with the chunk cache that suits it. HDF5 1.10 sends every chunk that
 * fits the cache through it (a malloc'd chunk buffer, then a copy): right for compressed
 * chunks, which must be decompressed whole and may be split between two reads (the cache
 * keeps them decompressed once), wasteful for uncompressed ones, which are read straight
 * into the destination when the cache is off. Reads go forward, so only the chunk a read
 * ends in is read again: a few chunks are enough, with fully read chunks evicted first
 * (w0 = 1). A cache of 64 MiB per column, as before, filled up to 64 MiB with chunks never
 * read again: 270 MB of the 38 M-row /events at 10 M customers, held until the read ended.
 * Returns the dataset reopened (or as it was when the properties cannot be set), or < 0. */
static hid_t tune_cache(hid_t file, const char *path, hid_t dset, hid_t dapl_base)
{
    hid_t dcpl = H5Dget_create_plist(dset), type = H5Dget_type(dset);
    size_t chunk_bytes = 0;
    int filtered = 0;
    hsize_t cdim = 0;
    if (dcpl >= 0 && type >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
        H5Pget_chunk(dcpl, 1, &cdim) == 1) {
        chunk_bytes = (size_t)cdim * H5Tget_size(type);
        filtered = H5Pget_nfilters(dcpl) > 0;
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (type >= 0)
        H5Tclose(type);
    if (chunk_bytes == 0)
        return dset; /* contiguous or compact: no chunk cache involved */
    size_t nbytes = 0, nslots = 521;
    if (filtered) {
        nbytes = CACHE_CHUNKS * chunk_bytes > CACHE_MIN_BYTES ? CACHE_CHUNKS * chunk_bytes
                                                              : CACHE_MIN_BYTES;
    }
    hid_t dapl = H5Pcopy(dapl_base);
    if (dapl < 0 || H5Pset_chunk_cache(dapl, nslots, nbytes, 1.0) < 0) {
        if (dapl >= 0)
            H5Pclose(dapl);
        return dset;
    }
    /* Close first: a second open of an open dataset shares its cache, built already. */
    H5Dclose(dset);
    hid_t tuned = H5Dopen2(file, path, dapl);
    H5Pclose(dapl);
    return tuned >= 0 ? tuned : H5Dopen2(file, path, dapl_base);
}

/* ---- The group ------------------------------------------------------------------------ */

/* reporter_t.settle: the guard's checks a column left to the decode, run before a problem
 * is reported (sgs__reader_settle). */
static void settle_deferred(void *ctx)
{
    sgs__reader_settle(ctx);
}

/* Open the columns of `group` described by specs. *present = 0 (and 0 returned) when the
 * group is absent and optional. Checks: group and required datasets exist (suggesting the
 * closest name), each is a 1-D dataset of the right class, all have the same length.
 * Sets r->n_rows. With a problem callback every structural problem is reported before
 * SGS_EDATA is returned. */
int sgs__reader_open_group(reader_t *r, const char *group, const column_spec_t *specs,
                           size_t n_specs, int required, int *present)
{
    reporter_t *rep = &r->rep;
    char hint[320];
    sgs_h5_refusal_t why;
    *present = 0;
    if (r->dapl < 0 && (r->dapl = sgs_h5_guard_dapl()) < 0) {
        sgs__reader_report(rep, SGS_CHECK_FILE, SGS_EIO, group, SGS_NO_ROW,
                           "cannot set up HDF5 access");
        return SGS_EIO;
    }
    /* Links first: nothing is opened through a link that leaves the file (and r->dapl
     * refuses to traverse an external link, should one be missed) */
    if (sgs_h5_guard_path(r->file, group, &why) != SGS_OK) {
        sgs__reader_report(rep, sgs__reader_refusal_check(why.kind), why.code, group, SGS_NO_ROW,
                           "%s", why.text);
        return why.code;
    }
    H5I_type_t gt;
    int rc = object_type(rep, r->file, group, r->dapl, &gt);
    if (rc)
        return rc;
    if (gt == H5I_BADID) {
        if (!required)
            return SGS_OK;
        name_list_t root;
        list_names(r->file, &root);
        suggest("/", group + 1, &root, NULL, 0, hint, sizeof hint);
        sgs__reader_report(rep, SGS_CHECK_MISSING, SGS_EDATA, group, SGS_NO_ROW,
                           "group is missing%s", hint);
        return SGS_EDATA;
    }
    if (gt != H5I_GROUP) {
        sgs__reader_report(rep, SGS_CHECK_SHAPE, SGS_EDATA, group, SGS_NO_ROW,
                           "is not a group (the input tables are groups of 1-D datasets)");
        return SGS_EDATA;
    }
    *present = 1;
    name_list_t names;
    hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
    names.n = 0;
    if (g >= 0) {
        list_names(g, &names);
        H5Gclose(g);
    }
    const char *known[MAX_COLUMNS];
    for (size_t k = 0; k < n_specs; k++)
        known[k] = specs[k].name;

    int bad = 0;
    r->n_cols = n_specs;
    for (size_t k = 0; k < n_specs; k++) {
        column_t *c = &r->cols[k];
        c->spec = &specs[k];
        c->elem = sgs_h5_type_size(specs[k].type);
        snprintf(c->path, sizeof c->path, "%s/%s", group, specs[k].name);
        if (sgs_h5_guard_path(r->file, c->path, &why) != SGS_OK) {
            sgs__reader_report(rep, sgs__reader_refusal_check(why.kind), why.code, c->path,
                               SGS_NO_ROW, "%s", why.text);
            bad = 1;
            continue;
        }
        H5I_type_t t;
        int failed = object_type(rep, r->file, c->path, r->dapl, &t);
        if (failed)
            return failed;
        if (t == H5I_BADID) {
            if (specs[k].required) {
                suggest(group, specs[k].name, &names, known, n_specs, hint, sizeof hint);
                sgs__reader_report(rep, SGS_CHECK_MISSING, SGS_EDATA, c->path, SGS_NO_ROW,
                                   "dataset is missing%s", hint);
                bad = 1;
            }
            continue;
        }
        if (t != H5I_DATASET) {
            sgs__reader_report(rep, SGS_CHECK_SHAPE, SGS_EDATA, c->path, SGS_NO_ROW,
                               "is not a dataset");
            bad = 1;
            continue;
        }
        c->dset = H5Dopen2(r->file, c->path, r->dapl);
        if (c->dset < 0) {
            char cause[256];
            int code = sgs_h5_guard_read_failure(cause, sizeof cause);
            sgs__reader_report(
                rep, SGS_CHECK_FILE, code, c->path, SGS_NO_ROW, "cannot open dataset%s%s%s",
                code == SGS_EDATA ? ": its header is malformed" : "", *cause ? ": " : "", cause);
            return code;
        }
        c->fspace = H5Dget_space(c->dset);
        hid_t ftype = H5Dget_type(c->dset);
        if (c->fspace < 0 || ftype < 0) {
            if (ftype >= 0)
                H5Tclose(ftype);
            sgs__reader_report(rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW,
                               "cannot read metadata");
            return SGS_EIO;
        }
        c->file_unsigned = H5Tget_class(ftype) == H5T_INTEGER && H5Tget_sign(ftype) == H5T_SGN_NONE;
        /* a type converted as H5Dread would: the column may be decoded by the reader */
        int convertible = sgs_h5_conv_plan(ftype, specs[k].type, &c->conv);
        H5Tclose(ftype);
        int ndims = H5Sget_simple_extent_ndims(c->fspace);
        if (ndims != 1) {
            sgs__reader_report(rep, SGS_CHECK_SHAPE, SGS_EDATA, c->path, SGS_NO_ROW,
                               "is %d-dimensional; columns must be one-dimensional", ndims);
            bad = 1;
            continue;
        }
        /* where the data lives, type, filters, storage: before the first read; the decoded
         * sizes of chunks the reader decodes itself are checked on that decode */
        sgs_h5_column_rule_t rule = sgs__reader_column_rule(&specs[k]);
        int failed_guard = convertible ? sgs_h5_guard_dataset_deferring(r->file, c->dset, &rule,
                                                                        r->nt, &c->deferred, &why)
                                       : sgs_h5_guard_dataset(r->file, c->dset, &rule, r->nt, &why);
        if (c->deferred && !rep->settle) {
            rep->settle = settle_deferred;
            rep->settle_ctx = r;
        }
        if (failed_guard != SGS_OK) {
            sgs__reader_report(rep, sgs__reader_refusal_check(why.kind), why.code, c->path,
                               SGS_NO_ROW, "%s", why.text);
            if (why.code != SGS_EDATA)
                return why.code;
            bad = 1;
            continue;
        }
        c->dset = tune_cache(r->file, c->path, c->dset, r->dapl);
        if (c->dset < 0) {
            sgs__reader_report(rep, SGS_CHECK_FILE, SGS_EIO, c->path, SGS_NO_ROW,
                               "cannot open dataset");
            return SGS_EIO;
        }
    }
    if (bad)
        return SGS_EDATA;
    /* Lengths: every present column against the first one (a required column). */
    const column_t *ref = &r->cols[0];
    hsize_t ref_len = 0;
    H5Sget_simple_extent_dims(ref->fspace, &ref_len, NULL);
    for (size_t k = 1; k < n_specs; k++) {
        const column_t *c = &r->cols[k];
        if (c->dset < 0)
            continue;
        hsize_t len = 0;
        H5Sget_simple_extent_dims(c->fspace, &len, NULL);
        if (len != ref_len) {
            sgs__reader_report(
                rep, SGS_CHECK_LENGTH, SGS_EDATA, c->path, SGS_NO_ROW,
                "has %llu rows but %s has %llu; all columns of %s must have equal length",
                (unsigned long long)len, ref->path, (unsigned long long)ref_len, group);
            bad = 1;
        }
    }
    r->n_rows = (size_t)ref_len;
    return bad ? SGS_EDATA : SGS_OK;
}
