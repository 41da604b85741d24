/*
 * io/h5_guard_dataset.c — may this dataset be read as a column? See h5_guard.h.
 *
 * Where its data lives (in the file, not virtual, not external), its element type against
 * the column's rule, its filters, and its storage against its extent: contiguous and
 * compact here, chunked through the chunk checks of io/h5_guard_chunks.c.
 */
#include "io/h5_guard.h"

#include "io/h5_guard_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- Datasets ----------------------------------------------------------------------------- */

const char *sgs_h5_guard_filter_name(H5Z_filter_t id, const char *stored_name)
{
    if (stored_name && *stored_name)
        return stored_name;
    static const struct {
        H5Z_filter_t id;
        const char *name;
    } known[] = {{1, "deflate"},   {2, "shuffle"},     {3, "fletcher32"},     {4, "szip"},
                 {5, "nbit"},      {6, "scaleoffset"}, {307, "bzip2"},        {32000, "lzf"},
                 {32001, "blosc"}, {32004, "lz4"},     {32008, "bitshuffle"}, {32013, "zfp"},
                 {32015, "zstd"},  {32017, "sz"},      {32026, "blosc2"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].id == id)
            return known[i].name;
    return "unknown";
}

void sgs_h5_type_name(hid_t type, char *buf, size_t size)
{
    size_t bytes = H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_INTEGER:
        if (bytes > 8) /* "uint524352" would hide how absurd it is */
            snprintf(buf, size, "%zu-byte %s integers", bytes,
                     H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed");
        else
            snprintf(buf, size, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "",
                     bytes * 8);
        return;
    case H5T_FLOAT:
        if (bytes > 8)
            snprintf(buf, size, "%zu-byte floats", bytes);
        else
            snprintf(buf, size, "float%zu", bytes * 8);
        return;
    case H5T_STRING:
        snprintf(buf, size, "string");
        return;
    case H5T_COMPOUND:
        snprintf(buf, size, "compound");
        return;
    case H5T_ENUM:
        snprintf(buf, size, "enum");
        return;
    case H5T_ARRAY:
        snprintf(buf, size, "array");
        return;
    case H5T_VLEN:
        snprintf(buf, size, "vlen");
        return;
    case H5T_BITFIELD:
        snprintf(buf, size, "bitfield");
        return;
    case H5T_OPAQUE:
        snprintf(buf, size, "opaque");
        return;
    case H5T_REFERENCE:
        snprintf(buf, size, "reference");
        return;
    default:
        snprintf(buf, size, "unknown");
        return;
    }
}

/* The bits a type declares lie inside its bytes: precision + offset <= 8 x size, and for a
 * float the sign, exponent and mantissa fields too. HDF5's own API refuses anything else
 * (H5Tset_precision, H5Tset_offset, H5Tset_fields), but the decoder of a type message in a
 * file does not check, and its conversions then read and shift the bits beside each element
 * (an 8-byte integer of 198 bits: a row's value depended on its neighbours). */
static int check_bits(hid_t type, H5T_class_t cls, size_t bytes, const char *tname,
                      sgs_h5_refusal_t *why)
{
    size_t bits = 8 * bytes, precision = H5Tget_precision(type);
    int offset = H5Tget_offset(type);
    if (precision == 0 || offset < 0 || precision > bits || (size_t)offset > bits - precision)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
            "elements are %s declaring %zu bits of precision at bit offset %d, more "
            "than their %zu bits (a damaged type: libhdf5 would read the bits beside "
            "each element)",
            tname, precision, offset, bits);
    if (cls != H5T_FLOAT)
        return SGS_OK;
    size_t sign = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(type, &sign, &epos, &esize, &mpos, &msize) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                                 "elements are %s whose bit fields cannot be read", tname);
    }
    if (sign >= bits || esize > bits || epos > bits - esize || msize > bits || mpos > bits - msize)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
            "elements are %s whose sign (bit %zu), exponent (bits %zu + %zu) or "
            "mantissa (bits %zu + %zu) lie beyond their %zu bits (a damaged type: "
            "libhdf5 would read the bits beside each element)",
            tname, sign, epos, esize, mpos, msize, bits);
    return SGS_OK;
}

/* Element class, width and bits against the rule. */
static int check_type(hid_t type, const sgs_h5_column_rule_t *rule, sgs_h5_refusal_t *why)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t bytes = H5Tget_size(type);
    char tname[64];
    sgs_h5_type_name(type, tname, sizeof tname);
    int class_ok = rule->classes == SGS_H5_INTEGERS ? cls == H5T_INTEGER
                   : rule->classes == SGS_H5_FLOATS ? cls == H5T_FLOAT
                                                    : cls == H5T_INTEGER || cls == H5T_FLOAT;
    const char *kind = rule->classes == SGS_H5_INTEGERS ? "integer"
                       : rule->classes == SGS_H5_FLOATS ? "floating-point"
                                                        : "integer or floating-point";
    if (!class_ok)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                                 "elements are %s; %s must be %s (%s)", tname, rule->name,
                                 rule->classes == SGS_H5_INTEGERS ? "an integer type"
                                 : rule->classes == SGS_H5_FLOATS ? "floating point"
                                                                  : "numeric",
                                 rule->type_name);
    if (bytes == 0 || bytes > rule->max_bytes)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
            "elements are %s; %s accepts %s types of at most %zu bytes (%s), checked "
            "before any read",
            tname, rule->name, kind, rule->max_bytes, rule->type_name);
    H5T_order_t order = H5Tget_order(type);
    if (bytes > 1 && order != H5T_ORDER_LE && order != H5T_ORDER_BE)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                                 "elements are %s in an unusual byte order; %s must be little- or "
                                 "big-endian",
                                 tname, rule->name);
    return check_bits(type, cls, bytes, tname, why);
}

/* Every filter of the pipeline must be available and able to decode. A required filter
 * that is not is refused here. An optional one (H5Z_FLAG_OPTIONAL) may have been skipped
 * when a chunk was written (the chunk's filter mask says so), so its pipeline bit goes to
 * p->optional_missing for sgs__guard_check_stored_chunks once the chunks are known complete. */
static int check_filters(hid_t dcpl, pipeline_t *p, sgs_h5_refusal_t *why)
{
    memset(p, 0, sizeof *p);
    int n = H5Pget_nfilters(dcpl);
    if (n > H5Z_MAX_NFILTERS)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
                                 "declares %d filters, more than HDF5's %d", n, H5Z_MAX_NFILTERS);
    p->n = n < 0 ? 0 : n;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0, config = 0, cd[16];
        size_t n_cd = sizeof cd / sizeof cd[0];
        char name[128] = "";
        H5Z_filter_t id =
            H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
        if (id < 0)
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
                                     "filter %d of the pipeline cannot be read", i);
        p->id[i] = id;
        htri_t avail = H5Zfilter_avail(id);
        unsigned info = 0;
        if (avail > 0 && H5Zget_filter_info(id, &info) >= 0 &&
            (info & H5Z_FILTER_CONFIG_DECODE_ENABLED))
            continue;
        H5Eclear2(H5E_DEFAULT);
        if ((flags & H5Z_FLAG_OPTIONAL) && i < 32) {
            p->optional_missing |= 1u << i;
            continue;
        }
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
            "dataset needs filter %d (%s), not available in this HDF5 library%s; "
            "install the filter plugin (HDF5_PLUGIN_PATH) or rewrite the file "
            "without it (h5repack -f NONE)",
            (int)id, sgs_h5_guard_filter_name(id, name), avail > 0 ? " for decoding" : "");
    }
    return SGS_OK;
}

/* Contiguous storage: allocated, as large as the extent, inside the file. */
static int check_contiguous(hid_t file, hid_t dset, uint64_t need, sgs_h5_refusal_t *why)
{
    H5D_space_status_t status;
    if (H5Dget_space_status(dset, &status) < 0)
        return sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE,
                                 "cannot read the storage status");
    if (status == H5D_SPACE_STATUS_NOT_ALLOCATED)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "was never written (no storage allocated: every row would read as the "
            "fill value)");
    uint64_t stored = (uint64_t)H5Dget_storage_size(dset);
    if (stored < need)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "declares %llu bytes of data (rows x element size) but stores %llu",
            (unsigned long long)need, (unsigned long long)stored);
    haddr_t offset = H5Dget_offset(dset);
    hsize_t file_bytes = 0;
    if (offset == HADDR_UNDEF || H5Fget_filesize(file, &file_bytes) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE,
                                 "cannot locate the data in the file");
    }
    if ((uint64_t)offset > (uint64_t)file_bytes || need > (uint64_t)file_bytes - offset)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "declares %llu bytes of data at offset %llu, past the end of the file "
            "(%llu bytes)",
            (unsigned long long)need, (unsigned long long)offset, (unsigned long long)file_bytes);
    return SGS_OK;
}

/* Compact storage: the data lives in the object header, in a buffer of its own size.
 * libhdf5 1.10 does not compare that size with the extent times the element size, and
 * reads past the buffer when a (fuzzed) header declares more (ASan: H5VM_memcpyvv from
 * H5D__compact_readvv, issue 13 item 5). */
static int check_compact(hid_t dset, uint64_t need, sgs_h5_refusal_t *why)
{
    uint64_t stored = (uint64_t)H5Dget_storage_size(dset);
    if (stored < need)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "declares %llu bytes of data (rows x element size) but its compact "
            "storage holds %llu",
            (unsigned long long)need, (unsigned long long)stored);
    return SGS_OK;
}
#if H5_VERSION_GE(1, 12, 0)
typedef H5O_info2_t obj_info_t;
#define OGET_INFO(obj, info) H5Oget_info3((obj), (info), H5O_INFO_BASIC)
#else
typedef H5O_info_t obj_info_t;
#define OGET_INFO(obj, info) H5Oget_info2((obj), (info), H5O_INFO_BASIC)
#endif

/* sgs_h5_guard_dataset, and sgs_h5_guard_dataset_deferring when deferred is not NULL. */
static int guard_dataset(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule, int n_threads,
                         int *deferred, sgs_h5_refusal_t *why)
{
    memset(why, 0, sizeof *why);
    if (deferred)
        *deferred = 0;
    hid_t dcpl = -1, type = -1, space = -1;
    int rc = SGS_OK;
    obj_info_t in_file, in_dset;
    if (OGET_INFO(file, &in_file) < 0 || OGET_INFO(dset, &in_dset) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE, "cannot describe the dataset");
    }
    if (in_file.fileno != in_dset.fileno)
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_LINK,
            "is stored in another file; segscore reads only data stored in the input "
            "file");
    dcpl = H5Dget_create_plist(dset);
    type = H5Dget_type(dset);
    space = H5Dget_space(dset);
    if (dcpl < 0 || type < 0 || space < 0) {
        H5Eclear2(H5E_DEFAULT);
        rc = sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE,
                               "cannot read the dataset's metadata");
        goto cleanup;
    }
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (layout == H5D_VIRTUAL) {
        char src_file[256] = "?", src_dset[256] = "?";
        size_t n_map = 0;
        if (H5Pget_virtual_count(dcpl, &n_map) >= 0 && n_map > 0) {
            H5Pget_virtual_filename(dcpl, 0, src_file, sizeof src_file);
            H5Pget_virtual_dsetname(dcpl, 0, src_dset, sizeof src_dset);
        }
        H5Eclear2(H5E_DEFAULT);
        rc = sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "is a virtual dataset (its rows come from %zu mapping%s, the first from "
            "%s:%s); segscore reads only data stored in the input file (h5repack "
            "copies virtual data in)",
            n_map, n_map == 1 ? "" : "s", src_file, src_dset);
        goto cleanup;
    }
    int n_ext = H5Pget_external_count(dcpl);
    if (n_ext > 0) {
        char name[256] = "?";
        off_t off = 0;
        hsize_t bytes = 0;
        H5Pget_external(dcpl, 0, sizeof name, name, &off, &bytes);
        H5Eclear2(H5E_DEFAULT);
        rc = sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "stores its data in %d external file%s (the first: %s); segscore reads "
            "only data stored in the input file",
            n_ext, n_ext == 1 ? "" : "s", name);
        goto cleanup;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > MAX_RANK) {
        rc = sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
            "has %d dimensions; segscore reads one- and two-dimensional datasets", rank);
        goto cleanup;
    }
    if ((rc = check_type(type, rule, why)) != SGS_OK)
        goto cleanup;
    pipeline_t pipeline;
    if ((rc = check_filters(dcpl, &pipeline, why)) != SGS_OK)
        goto cleanup;
    hssize_t n_points = H5Sget_simple_extent_npoints(space);
    if (n_points < 0) {
        rc = sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable extent");
        goto cleanup;
    }
    size_t n_elems = (size_t)n_points, need;
    if (n_elems == 0)
        goto cleanup;
    if (sgs_size_mul(n_elems, H5Tget_size(type), &need) != SGS_OK) {
        rc = sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                               "declares %llu %s, more bytes than any file can hold",
                               (unsigned long long)n_elems, rank == 1 ? "rows" : "elements");
        goto cleanup;
    }
    chunk_grid_t grid;
    switch (layout) {
    case H5D_CONTIGUOUS:
        rc = check_contiguous(file, dset, need, why);
        break;
    case H5D_CHUNKED:
        rc = sgs__guard_chunk_grid(dcpl, space, &grid, why);
        if (rc == SGS_OK)
            rc = sgs__guard_check_chunked(dset, space, &grid, why);
        if (rc == SGS_OK)
            rc = sgs__guard_check_stored_chunks(file, dset, dcpl, &pipeline, &grid,
                                                H5Tget_size(type), n_threads, deferred, why);
        break;
    case H5D_COMPACT:
        rc = check_compact(dset, need, why);
        break;
    default:
        rc = sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                               "has an unknown storage layout (%d)", (int)layout);
        break;
    }
cleanup:
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return rc;
}

int sgs_h5_guard_dataset(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule, int n_threads,
                         sgs_h5_refusal_t *why)
{
    return guard_dataset(file, dset, rule, n_threads, NULL, why);
}

int sgs_h5_guard_dataset_deferring(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule,
                                   int n_threads, int *deferred, sgs_h5_refusal_t *why)
{
    return guard_dataset(file, dset, rule, n_threads, deferred, why);
}
