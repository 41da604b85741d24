/*
 * io/h5_objects.c — the object listing of `segscore inspect`: every group and dataset of an
 * HDF5 file with its type, shape, chunking, filters and storage, never leaving the file.
 * See h5_objects.h.
 */
#include "io/h5_objects.h"

#include "io/memory_cap.h"

#include "io/h5_crash.h"
#include "io/h5_guard.h"
#include "io/h5_reader_internal.h"

#include <hdf5.h>

#include <stdio.h>
#include <string.h>

/* ---- Object listing ------------------------------------------------------------------- */

typedef struct object_list {
    sgs_h5_object_info_t *items;
    size_t n, cap;
    int failed;
    hid_t lapl; /* external links refused (h5_guard.h) */
} object_list_t;

/* Filters of a dataset as "shuffle+deflate(4)". */
static void describe_filters(hid_t dcpl, char *buf, size_t size)
{
    buf[0] = '\0';
    int n = H5Pget_nfilters(dcpl);
    size_t used = 0;
    for (int i = 0; i < n && used < size; i++) {
        unsigned flags = 0, config = 0, cd[8] = {0};
        size_t n_cd = 8;
        char name[64] = "";
        H5Z_filter_t id =
            H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
        char one[80];
        switch (id) {
        case H5Z_FILTER_DEFLATE:
            snprintf(one, sizeof one, "deflate(%u)", n_cd > 0 ? cd[0] : 0);
            break;
        case H5Z_FILTER_SHUFFLE:
            snprintf(one, sizeof one, "shuffle");
            break;
        case H5Z_FILTER_FLETCHER32:
            snprintf(one, sizeof one, "fletcher32");
            break;
        case H5Z_FILTER_SZIP:
            snprintf(one, sizeof one, "szip");
            break;
        case H5Z_FILTER_NBIT:
            snprintf(one, sizeof one, "nbit");
            break;
        case H5Z_FILTER_SCALEOFFSET:
            snprintf(one, sizeof one, "scaleoffset");
            break;
        default:
            snprintf(one, sizeof one, "filter%d%s%s%s", (int)id, *name ? "(" : "", name,
                     *name ? ")" : "");
            break;
        }
        int w = snprintf(buf + used, size - used, "%s%s", used ? "+" : "", one);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Only hard and soft links are opened, and a soft link's target is never reached through an
 * external link: listing a hostile file opens nothing outside it (the reader names the
 * links it refuses). */
static herr_t visit_object(hid_t root, const char *name, const sgs_link_info_t *info, void *data)
{
    object_list_t *list = data;
    if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT)
        return 0;
    hid_t obj = H5Oopen(root, name, list->lapl);
    if (obj < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0; /* dangling soft link, or one that leaves the file: not an object of it */
    }
    H5I_type_t t = H5Iget_type(obj);
    if (t != H5I_GROUP && t != H5I_DATASET) {
        H5Oclose(obj);
        return 0;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 32;
        sgs_h5_object_info_t *items = sgs_realloc_array(list->items, cap, sizeof *items);
        if (!items) {
            H5Oclose(obj);
            list->failed = 1;
            return -1;
        }
        list->items = items;
        list->cap = cap;
    }
    sgs_h5_object_info_t *it = &list->items[list->n++];
    memset(it, 0, sizeof *it);
    snprintf(it->path, sizeof it->path, "/%s", name);
    if (t == H5I_GROUP) {
        it->is_group = 1;
        H5Oclose(obj);
        return 0;
    }
    hid_t type = H5Dget_type(obj), space = H5Dget_space(obj), dcpl = H5Dget_create_plist(obj);
    if (type >= 0)
        sgs_h5_type_name(type, it->type, sizeof it->type);
    if (space >= 0) {
        hsize_t dims[H5S_MAX_RANK];
        int rank = H5Sget_simple_extent_dims(space, dims, NULL);
        it->rank = rank > 0 ? rank : 0;
        it->length = rank > 0 ? (uint64_t)dims[0] : (uint64_t)H5Sget_simple_extent_npoints(space);
    }
    if (dcpl >= 0) {
        hsize_t cdims[H5S_MAX_RANK];
        if (H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, cdims) > 0)
            it->chunk_rows = (uint64_t)cdims[0];
        describe_filters(dcpl, it->filters, sizeof it->filters);
    }
    it->storage_bytes = (uint64_t)H5Dget_storage_size(obj);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    H5Oclose(obj);
    return 0;
}

int sgs_h5_list_objects(const char *path, sgs_h5_object_info_t **out, size_t *n, sgs_error_t *err)
{
    *out = NULL;
    *n = 0;
    reporter_t rep = {path, NULL, NULL, err, 0, NULL, NULL};
    hid_t file;
    sgs_h5_crash_arm(path);
    int rc = sgs__reader_open_file(&rep, &file);
    if (rc) {
        sgs_h5_crash_disarm();
        return rc;
    }
    object_list_t list = {0};
    list.lapl = sgs_h5_guard_dapl();
    if (list.lapl < 0) {
        H5Fclose(file);
        sgs_h5_crash_disarm();
        return sgs_error_set(err, SGS_EIO, "%s: cannot list the file's objects", path);
    }
    /* A damaged group heap can make libhdf5 allocate without end here (io/memory_cap.h). */
    sgs_memory_cap_t cap;
    sgs_memory_cap_begin(SGS_MEMORY_CAP_LISTING, &cap);
    herr_t st = SGS_LVISIT(file, H5_INDEX_NAME, H5_ITER_INC, visit_object, &list);
    int capped = sgs_memory_cap_end(&cap);
    /* why it failed, before the next HDF5 call clears the error stack */
    char cause[256] = "";
    int code = st < 0 ? sgs_h5_guard_read_failure(cause, sizeof cause) : SGS_OK;
    if (code == SGS_ENOMEM && capped) {
        code = SGS_EDATA;
        snprintf(cause, sizeof cause,
                 "the HDF5 library took more than %zu MB of memory listing them (a damaged "
                 "group makes it allocate without end)",
                 SGS_MEMORY_CAP_LISTING >> 20);
    }
    H5Pclose(list.lapl);
    H5Fclose(file);
    sgs_h5_crash_disarm();
    if (list.failed) {
        sgs_free(list.items);
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory listing datasets", path);
    }
    if (st < 0) { /* a corrupt object header or group: 65, unless a read(2) failed */
        sgs_free(list.items);
        return sgs_error_set(err, code, "%s: cannot list the file's objects%s%s%s", path,
                             code == SGS_EDATA ? ": its metadata is malformed" : "",
                             *cause ? ": " : "", cause);
    }
    *out = list.items;
    *n = list.n;
    return SGS_OK;
}
