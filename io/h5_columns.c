/*
 * io/h5_columns.c — 1-D columns, the streaming appender and attributes. See h5_columns.h.
 */
#include "io/h5_columns.h"

#include "io/atomic_file.h"
#include "io/direct_file.h"
#include "io/h5_crash.h"
#include "io/h5_guard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Opening a file to read ------------------------------------------------------- */

int sgs_h5_open_read(const char *path, hid_t *out, sgs_error_t *err)
{
    *out = -1;
    sgs_h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0)
        return sgs_error_set(err, SGS_ENOINPUT, "%s: %s", path,
                             errno == ENOENT ? "no such file" : strerror(errno));
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_EDATA, "%s: not an HDF5 file", path);
    }
    *out = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*out < 0) {
        sgs_h5_refusal_t why;
        int code = sgs_h5_guard_open_failure(path, &why);
        return sgs_error_set(err, code, "%s: %s", path, why.text);
    }
    return SGS_OK;
}

/* ---- Types and groups -------------------------------------------------------------- */

size_t sgs_h5_type_size(sgs_h5_type_t type)
{
    switch (type) {
    case SGS_H5_I64:
    case SGS_H5_F64:
        return 8;
    case SGS_H5_I32:
        return 4;
    case SGS_H5_U8:
    case SGS_H5_I8:
        return 1;
    }
    return 0;
}

hid_t sgs_h5_mem_type(sgs_h5_type_t type)
{
    switch (type) {
    case SGS_H5_I64:
        return H5T_NATIVE_INT64;
    case SGS_H5_I32:
        return H5T_NATIVE_INT32;
    case SGS_H5_U8:
        return H5T_NATIVE_UINT8;
    case SGS_H5_I8:
        return H5T_NATIVE_INT8;
    case SGS_H5_F64:
        return H5T_NATIVE_DOUBLE;
    }
    return H5T_NATIVE_DOUBLE;
}

/* On-disk type: fixed little-endian, so files are identical on every machine. */
static hid_t file_type(sgs_h5_type_t type)
{
    switch (type) {
    case SGS_H5_I64:
        return H5T_STD_I64LE;
    case SGS_H5_I32:
        return H5T_STD_I32LE;
    case SGS_H5_U8:
        return H5T_STD_U8LE;
    case SGS_H5_I8:
        return H5T_STD_I8LE;
    case SGS_H5_F64:
        return H5T_IEEE_F64LE;
    }
    return H5T_IEEE_F64LE;
}

/* What the last failed HDF5 calls of this thread reported, since last taken: the errno of a
 * failed system call, and whether HDF5 could not allocate memory. Per thread, as HDF5's error
 * stacks and handlers are in a thread-safe build (Debian's is one). */
static _Thread_local int last_os_errno, last_out_of_memory;

/* H5Ewalk2 callback over one failure's stack. HDF5's file drivers describe a failed system
 * call as "..., errno = %d, error message = '...'" (H5Eprivate.h HSYS_GOTO_ERROR, a format
 * HDF5 keeps stable because other projects parse it); a failed memory allocation is the minor
 * error H5E_NOSPACE ("no space available for allocation") of the major H5E_RESOURCE. */
static herr_t inspect_failure(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    (void)data;
    const char *at = e->desc ? strstr(e->desc, "errno = ") : NULL;
    if (at && atoi(at + strlen("errno = ")) > 0)
        last_os_errno = atoi(at + strlen("errno = "));
    if (e->maj_num == H5E_RESOURCE && e->min_num == H5E_NOSPACE)
        last_out_of_memory = 1;
    return 0;
}

/* The automatic error handler: print nothing, remember what the failure was. */
static herr_t record_failure(hid_t stack, void *data)
{
    (void)data;
    H5Ewalk2(stack, H5E_WALK_DOWNWARD, inspect_failure, NULL);
    return 0;
}

void sgs_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, record_failure, NULL);
}

/* Bytes a failure without a recorded cause tries to allocate to tell want of memory from the
 * rest: more than HDF5 asks for at once here (a chunk of 65,536 rows and its compressed copy). */
#define MEMORY_PROBE_BYTES ((size_t)8 << 20)

int sgs_h5_take_failure(int *os_errno)
{
    int e = last_os_errno, oom = last_out_of_memory;
    last_os_errno = last_out_of_memory = 0;
    if (os_errno)
        *os_errno = e;
    if (oom || e == ENOMEM)
        return SGS_ENOMEM;
    if (e == ENOSPC || e == EFBIG
#ifdef EDQUOT
        || e == EDQUOT
#endif
    )
        return SGS_ENOSPACE;
    if (e == 0) {
        /* HDF5 does not always say why: closing a dataset whose last chunk it cannot compress
         * for want of memory reports only "can't close dataset" (1.10.8). When the process
         * cannot allocate a few megabytes now, memory is the cause. */
        void *volatile probe = malloc(MEMORY_PROBE_BYTES); /* volatile: not optimized away */
        if (!probe)
            return SGS_ENOMEM;
        free(probe);
    }
    return SGS_EIO;
}

int sgs_h5_write_error(sgs_error_t *err, hid_t obj, const char *fmt, ...)
{
    int os_errno;
    int code = sgs_h5_take_failure(&os_errno);
    char what[SGS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (code == SGS_ENOMEM)
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", what);
    if (code == SGS_ENOSPACE) {
        char name[1024];
        if (H5Fget_name(obj, name, sizeof name) < 0)
            snprintf(name, sizeof name, "the HDF5 file");
        return sgs_error_set_os(err, SGS_EIO, os_errno, name, what);
    }
    if (os_errno > 0)
        return sgs_error_set(err, SGS_EIO, "%s: %s", what, strerror(os_errno));
    return sgs_error_set(err, SGS_EIO, "%s", what);
}

int sgs_h5_group_ensure(hid_t file, const char *path, sgs_error_t *err)
{
    char partial[1024];
    size_t len = strlen(path);
    if (len >= sizeof partial)
        return sgs_error_set(err, SGS_EINVAL, "group path too long: %s", path);
    /* Walk "/a/b/c" creating each prefix that is missing. */
    for (size_t i = 1; i <= len; i++) {
        if (i != len && path[i] != '/')
            continue;
        memcpy(partial, path, i);
        partial[i] = '\0';
        htri_t exists = H5Lexists(file, partial, H5P_DEFAULT);
        if (exists > 0)
            continue;
        hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
        hid_t g = -1;
        if (exists == 0 && gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
            g = H5Gcreate2(file, partial, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        if (gcpl >= 0)
            H5Pclose(gcpl);
        if (g < 0)
            return sgs_h5_write_error(err, file, "cannot create group %s", partial);
        H5Gclose(g);
    }
    return SGS_OK;
}

/* Create the parent group of a dataset path ("/a/b/name" -> "/a/b"). */
static int ensure_parent(hid_t file, const char *path, sgs_error_t *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return SGS_OK;
    char parent[1024];
    size_t len = (size_t)(slash - path);
    if (len >= sizeof parent)
        return sgs_error_set(err, SGS_EINVAL, "dataset path too long: %s", path);
    memcpy(parent, path, len);
    parent[len] = '\0';
    return sgs_h5_group_ensure(file, parent, err);
}

/* Dataset creation properties without modification times, so that the same content gives
 * the same file bytes (determinism across runs and thread counts). */
static hid_t untimed_plist(void)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) < 0) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

/* Dataset creation properties: chunked (required for extendible and compressed sets). */
static hid_t chunked_plist(size_t chunk_rows, int deflate_level)
{
    hid_t dcpl = untimed_plist();
    if (dcpl < 0)
        return -1;
    hsize_t chunk = chunk_rows ? chunk_rows : 1;
    if (H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
        (deflate_level > 0 &&
         (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, (unsigned)deflate_level) < 0))) {
        H5Pclose(dcpl);
        return -1;
    }
    return dcpl;
}

/* ---- Whole columns ----------------------------------------------------------------- */

/* Bytes of a column written at a time by write_staged. */
#define STAGE_BYTES ((size_t)256 << 10)

/* Write the n elements of `data` (of type in_memory) into the whole of the contiguous `dset`
 * (dataspace `space`), a slab of STAGE_BYTES at a time copied into one small buffer first.
 * The copy pays: the kernel takes the bytes of a write from that buffer while it is still in
 * the cache, and taking them from a column of megabytes cost it ten times as much CPU time
 * (256 MB: 1.0 s against 0.05 s with the copy, on the 2-core benchmark VM). Returns SGS_OK,
 * SGS_ENOMEM (no buffer) or SGS_EIO (HDF5 failed: its error is recorded). */
static int write_staged(hid_t dset, hid_t space, sgs_h5_type_t in_memory, const void *data,
                        size_t n)
{
    size_t elem = sgs_h5_type_size(in_memory), per_slab = STAGE_BYTES / elem;
    hsize_t count = n < per_slab ? n : per_slab;
    /* A small dataset (a table of a few rows) is staged on the stack: its write allocates
     * nothing, so that it cannot fail on one process of a spread run alone, which would leave
     * the processes' HDF5 calls apart (engine/write_results.c). */
    unsigned char small[4096];
    unsigned char *stage =
        (size_t)count * elem <= sizeof small ? small : sgs_alloc_array((size_t)count, elem);
    hid_t mspace = stage ? H5Screate_simple(1, &count, NULL) : -1;
    int rc = !stage ? SGS_ENOMEM : mspace < 0 ? SGS_EIO : SGS_OK;
    for (size_t start = 0; rc == SGS_OK && start < n; start += per_slab) {
        hsize_t at = start, len = n - start < per_slab ? n - start : per_slab;
        memcpy(stage, (const unsigned char *)data + start * elem, (size_t)len * elem);
        if ((len != count && H5Sset_extent_simple(mspace, 1, &len, NULL) < 0) ||
            H5Sselect_hyperslab(space, H5S_SELECT_SET, &at, NULL, &len, NULL) < 0 ||
            H5Dwrite(dset, sgs_h5_mem_type(in_memory), mspace, space, H5P_DEFAULT, stage) < 0)
            rc = SGS_EIO;
    }
    if (mspace >= 0)
        H5Sclose(mspace);
    if (stage != small)
        sgs_free(stage);
    return rc;
}

/* Bytes of the staging buffer of a column written past the page cache. */
#define DIRECT_STAGE_BYTES ((size_t)4 << 20)

/* Write the n elements of `data` into the contiguous, allocated, never-filled `dset` of
 * `file` past HDF5 and the page cache (io/direct_file.h): at the dataset's address in the
 * file, when the bytes in memory are the bytes on disk (the same type) and the file is an
 * ordinary one (HDF5's default driver). Returns SGS_OK when written; SGS_EINVAL when this way
 * does not apply (nothing written: write_staged does it); else the write's error (err says
 * which file; the caller names the dataset). HDF5 writes nothing in the dataset's range
 * (no fill, its sieve buffer stays within datasets it writes itself), so the two do not
 * meet. */
static int write_direct(hid_t file, hid_t dset, sgs_h5_type_t in_memory, const void *data, size_t n,
                        sgs_error_t *err)
{
    haddr_t at = H5Dget_offset(dset);
    hid_t fapl = H5Fget_access_plist(file), stored = H5Dget_type(dset);
    int applies = at != HADDR_UNDEF && fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 &&
                  stored >= 0 && H5Tequal(stored, sgs_h5_mem_type(in_memory)) > 0;
    if (fapl >= 0)
        H5Pclose(fapl);
    if (stored >= 0)
        H5Tclose(stored);
    char name[SGS_PATH_MAX];
    ssize_t len = applies ? H5Fget_name(file, name, sizeof name) : -1;
    H5Eclear2(H5E_DEFAULT);
    if (len <= 0 || (size_t)len >= sizeof name)
        return SGS_EINVAL;
    sgs_direct_file_t f;
    int rc = sgs_direct_open(&f, name, 0, DIRECT_STAGE_BYTES, err);
    if (rc == SGS_OK)
        rc = sgs_direct_write_at(&f, (uint64_t)at, data, n * sgs_h5_type_size(in_memory), err);
    return sgs_direct_close(&f, rc, err);
}

int sgs_h5_write_column(hid_t file, const char *path, sgs_h5_type_t type, const void *data,
                        size_t n, int deflate_level, sgs_error_t *err)
{
    return sgs_h5_write_column_as(file, path, type, type, data, n, deflate_level, err);
}

int sgs_h5_write_column_as(hid_t file, const char *path, sgs_h5_type_t stored,
                           sgs_h5_type_t in_memory, const void *data, size_t n, int deflate_level,
                           sgs_error_t *err)
{
    int rc = ensure_parent(file, path, err);
    if (rc)
        return rc;
    hsize_t dims = n;
    hid_t space = -1, dcpl = -1, dset = -1;
    int reported = 0; /* err already says what failed */
    rc = SGS_EIO;
    space = H5Screate_simple(1, &dims, NULL);
    if (space < 0)
        goto cleanup;
    /* Uncompressed columns are contiguous: no padding after the last chunk (3% of the
     * results file at 1M customers) and no chunk cache; write_direct (else write_staged)
     * feeds them to the file. */
    if (n > 0 && deflate_level > 0) {
        size_t chunk = n < 65536 ? n : 65536;
        dcpl = chunked_plist(chunk, deflate_level);
    } else {
        dcpl = untimed_plist();
        /* the space allocated at creation and never filled: write_direct writes it */
        if (dcpl >= 0 && n > 0 &&
            (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
             H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)) {
            H5Pclose(dcpl);
            dcpl = -1;
        }
    }
    if (dcpl < 0)
        goto cleanup;
    dset = H5Dcreate2(file, path, file_type(stored), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0)
        goto cleanup;
    if (n > 0 && deflate_level > 0) {
        if (H5Dwrite(dset, sgs_h5_mem_type(in_memory), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            goto cleanup;
    } else if (n > 0) {
        rc = write_direct(file, dset, in_memory, data, n, err);
        if (rc == SGS_EINVAL) {
            rc = write_staged(dset, space, in_memory, data, n);
        } else if (rc != SGS_OK) {
            sgs_error_prefix(err, "cannot write dataset %s (%zu rows)", path, n);
            reported = 1;
            goto cleanup;
        }
        if (rc == SGS_ENOMEM)
            rc = sgs_error_set(err, rc, "cannot write dataset %s (%zu rows): out of memory", path,
                               n);
        if (rc != SGS_OK)
            goto cleanup;
    }
    rc = SGS_OK;
cleanup:
    if (dset >= 0)
        H5Dclose(dset);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (rc && rc != SGS_ENOMEM && !reported)
        rc = sgs_h5_write_error(err, file, "cannot write dataset %s (%zu rows)", path, n);
    return rc;
}

/* Objects of this size or more start at a multiple of SGS_DIRECT_ALIGN in an output file: at
 * most 4 KiB of padding each, and only columns reach it. */
#define ALIGNED_FROM_BYTES ((hsize_t)1 << 20)

/* Create (create != 0) or open read-write the file at path, every process of the run
 * together through MPI-IO in the MPI build. */
static hid_t shared_file(const char *path, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
#ifdef H5_HAVE_PARALLEL
    /* every process of the run opens the file together, through MPI-IO */
    if (H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#endif
    hid_t file = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                        : H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    return file;
}

hid_t sgs_h5_open_output(const char *path, int create)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    hid_t file = -1;
    if (H5Pset_alignment(fapl, ALIGNED_FROM_BYTES, SGS_DIRECT_ALIGN) >= 0)
        file = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                      : H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    return file;
}

hid_t sgs_h5_create_shared(const char *path)
{
    return shared_file(path, 1);
}

hid_t sgs_h5_open_shared(const char *path)
{
    return shared_file(path, 0);
}

int sgs_h5_write_column_part(hid_t file, const char *path, sgs_h5_type_t type, const void *data,
                             size_t first, size_t n, size_t n_all, int deflate_level,
                             sgs_error_t *err)
{
    /* rows beyond the dataset are this caller's error, but it still takes part, writing
     * nothing: the other processes wait for it in every collective call below */
    int beyond = first > n_all || n > n_all - first;
    if (beyond)
        first = n = 0;
    int rc = ensure_parent(file, path, err);
    if (rc)
        return rc;
    hsize_t dims = n_all, start = first, count = n, mdims = n ? n : 1;
    /* compressed: the single-process writer's chunks (sgs_h5_write_column) */
    hid_t space = H5Screate_simple(1, &dims, NULL),
          dcpl = n_all > 0 && deflate_level > 0
                     ? chunked_plist(n_all < 65536 ? n_all : 65536, deflate_level)
                     : untimed_plist();
    hid_t mspace = H5Screate_simple(1, &mdims, NULL), dxpl = H5Pcreate(H5P_DATASET_XFER);
    hid_t dset = -1;
    rc = SGS_EIO;
    if (space < 0 || dcpl < 0 || mspace < 0 || dxpl < 0)
        goto cleanup;
#ifdef H5_HAVE_PARALLEL
    if (H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        goto cleanup;
#endif
    dset = H5Dcreate2(file, path, file_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0)
        goto cleanup;
    /* a process without rows still takes part in the collective write, with nothing selected;
     * an empty dataset (every process has none: n_all is the same on all) has nothing to write,
     * as one process writing no row writes nothing, and MPI-IO would refuse the write */
    herr_t sel = n ? H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, NULL, &count, NULL)
                   : H5Sselect_none(space);
    if (sel < 0 || (!n && H5Sselect_none(mspace) < 0))
        goto cleanup;
    if (n_all > 0 && H5Dwrite(dset, sgs_h5_mem_type(type), mspace, space, dxpl, data) < 0)
        goto cleanup;
    rc = SGS_OK;
cleanup:
    if (dset >= 0 && H5Dclose(dset) < 0)
        rc = SGS_EIO;
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (rc)
        return sgs_h5_write_error(err, file, "cannot write rows %zu..%zu of dataset %s", first,
                                  first + n, path);
    if (beyond)
        return sgs_error_set(err, SGS_EINVAL, "dataset %s: rows beyond its %zu rows", path, n_all);
    return SGS_OK;
}

int sgs_h5_write_array(hid_t file, const char *path, sgs_h5_type_t type, const void *data, int rank,
                       const size_t *dims, sgs_error_t *err)
{
    int rc = ensure_parent(file, path, err);
    if (rc)
        return rc;
    hsize_t hdims[4] = {0};
    size_t n = 1;
    if (rank < 1 || rank > 4)
        return sgs_error_set(err, SGS_EINVAL, "%s: rank %d is outside 1..4", path, rank);
    for (int d = 0; d < rank; d++) {
        hdims[d] = dims[d];
        n *= dims[d];
    }
    hid_t space = H5Screate_simple(rank, hdims, NULL);
    hid_t dcpl = untimed_plist(), dset = -1;
    rc = SGS_EIO;
    if (space < 0 || dcpl < 0)
        goto cleanup;
    dset = H5Dcreate2(file, path, file_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0)
        goto cleanup;
    if (n > 0 && H5Dwrite(dset, sgs_h5_mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        goto cleanup;
    rc = SGS_OK;
cleanup:
    if (dset >= 0)
        H5Dclose(dset);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (rc)
        rc = sgs_h5_write_error(err, file, "cannot write the %d-D dataset %s (%zu elements)", rank,
                                path, n);
    return rc;
}

int sgs_h5_write_matrix(hid_t file, const char *path, const double *data, size_t n_rows,
                        size_t n_cols, sgs_error_t *err)
{
    size_t dims[2] = {n_rows, n_cols};
    return sgs_h5_write_array(file, path, SGS_H5_F64, data, 2, dims, err);
}

/* Variable-length UTF-8 string type (caller closes). */
static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int sgs_h5_write_strings(hid_t file, const char *path, const char *const *strings, size_t n,
                         sgs_error_t *err)
{
    int rc = ensure_parent(file, path, err);
    if (rc)
        return rc;
    hsize_t dims = n;
    hid_t type = vlen_utf8(), space = H5Screate_simple(1, &dims, NULL), dset = -1;
    hid_t dcpl = untimed_plist();
    rc = SGS_EIO;
    if (type < 0 || space < 0 || dcpl < 0)
        goto cleanup;
    dset = H5Dcreate2(file, path, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0)
        goto cleanup;
    if (n > 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings) < 0)
        goto cleanup;
    rc = SGS_OK;
cleanup:
    if (dset >= 0)
        H5Dclose(dset);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (rc)
        rc = sgs_h5_write_error(err, file, "cannot write string dataset %s", path);
    return rc;
}

/* ---- Streaming appender ------------------------------------------------------------ */

struct sgs_h5_appender {
    hid_t file; /* borrowed: the file the dataset is in */
    hid_t dset;
    sgs_h5_type_t type;
    size_t elem_size;
    size_t chunk_rows;
    size_t buffered; /* rows waiting in buffer */
    size_t written;  /* rows already in the file */
    unsigned char *buffer;
    char path[256];
};

int sgs_h5_appender_create(hid_t file, const char *path, sgs_h5_type_t type, size_t chunk_rows,
                           int deflate_level, sgs_h5_appender_t **out, sgs_error_t *err)
{
    *out = NULL;
    if (chunk_rows == 0)
        return sgs_error_set(err, SGS_EINVAL, "%s: chunk_rows must be >= 1", path);
    int rc = ensure_parent(file, path, err);
    if (rc)
        return rc;
    sgs_h5_appender_t *a = calloc(1, sizeof *a);
    if (!a)
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", path);
    a->file = file;
    a->dset = -1;
    a->type = type;
    a->elem_size = sgs_h5_type_size(type);
    a->chunk_rows = chunk_rows;
    snprintf(a->path, sizeof a->path, "%s", path);
    a->buffer = sgs_alloc_array(chunk_rows, a->elem_size);
    hsize_t zero = 0, unlimited = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &zero, &unlimited);
    hid_t dcpl = chunked_plist(chunk_rows, deflate_level);
    if (a->buffer && space >= 0 && dcpl >= 0)
        a->dset = H5Dcreate2(file, path, file_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (!a->buffer || a->dset < 0) {
        rc = a->buffer ? sgs_h5_write_error(err, file, "cannot create dataset %s", path)
                       : sgs_error_set(err, SGS_ENOMEM, "%s: out of memory", path);
        sgs_h5_appender_close(a, NULL);
        return rc;
    }
    *out = a;
    return SGS_OK;
}

/* Write the buffered rows at the end of the dataset, extending it. */
static int flush_buffer(sgs_h5_appender_t *a, sgs_error_t *err)
{
    if (a->buffered == 0)
        return SGS_OK;
    hsize_t new_size = a->written + a->buffered;
    hsize_t start = a->written, count = a->buffered;
    hid_t fspace = -1, mspace = -1;
    int rc = SGS_EIO;
    if (H5Dset_extent(a->dset, &new_size) < 0)
        goto cleanup;
    fspace = H5Dget_space(a->dset);
    mspace = H5Screate_simple(1, &count, NULL);
    if (fspace < 0 || mspace < 0 ||
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        H5Dwrite(a->dset, sgs_h5_mem_type(a->type), mspace, fspace, H5P_DEFAULT, a->buffer) < 0)
        goto cleanup;
    a->written += a->buffered;
    a->buffered = 0;
    rc = SGS_OK;
cleanup:
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (rc)
        rc = sgs_h5_write_error(err, a->file, "cannot append to dataset %s at row %zu", a->path,
                                a->written);
    return rc;
}

int sgs_h5_appender_append(sgs_h5_appender_t *a, const void *rows, size_t n, sgs_error_t *err)
{
    const unsigned char *src = rows;
    while (n > 0) {
        size_t take = a->chunk_rows - a->buffered;
        if (take > n)
            take = n;
        memcpy(a->buffer + a->buffered * a->elem_size, src, take * a->elem_size);
        a->buffered += take;
        src += take * a->elem_size;
        n -= take;
        if (a->buffered == a->chunk_rows) {
            int rc = flush_buffer(a, err);
            if (rc)
                return rc;
        }
    }
    return SGS_OK;
}

size_t sgs_h5_appender_rows(const sgs_h5_appender_t *a)
{
    return a->written + a->buffered;
}

int sgs_h5_appender_close(sgs_h5_appender_t *a, sgs_error_t *err)
{
    if (!a)
        return SGS_OK;
    int rc = SGS_OK;
    if (a->dset >= 0) {
        rc = flush_buffer(a, err);
        if (H5Dclose(a->dset) < 0 && rc == SGS_OK)
            rc = sgs_h5_write_error(err, a->file, "cannot close dataset %s", a->path);
    }
    sgs_free(a->buffer);
    free(a);
    return rc;
}

/* ---- Reading ------------------------------------------------------------------------ */

/* Name of a column type for messages. */
static const char *type_label(sgs_h5_type_t type)
{
    switch (type) {
    case SGS_H5_I64:
        return "read as int64";
    case SGS_H5_I32:
        return "read as int32";
    case SGS_H5_U8:
        return "read as uint8";
    case SGS_H5_I8:
        return "read as int8";
    case SGS_H5_F64:
        return "read as float64";
    }
    return "read as a number";
}

int sgs_h5_read_column(hid_t file, const char *path, sgs_h5_type_t type, void **out, size_t *n,
                       sgs_error_t *err)
{
    *out = NULL;
    *n = 0;
    char name[1024];
    if (H5Fget_name(file, name, sizeof name) < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(name, sizeof name, "the HDF5 file");
    }
    /* links, storage, type: the checks of every input (io/h5_guard.h), armed against a
     * crash of libhdf5 on a damaged file (io/h5_crash.h) */
    sgs_h5_crash_arm(name);
    const sgs_h5_column_rule_t rule = {"the column", SGS_H5_NUMBERS, 8, type_label(type)};
    sgs_h5_refusal_t why;
    hid_t dapl = -1, dset = -1, space = -1;
    int rc = SGS_EIO;
    void *data = NULL;
    if (sgs_h5_guard_path(file, path, &why) != SGS_OK) {
        rc = sgs_error_set(err, why.code, "%s: %s: %s", name, path, why.text);
        goto cleanup;
    }
    if ((dapl = sgs_h5_guard_dapl()) < 0) {
        sgs_error_set(err, rc, "%s: cannot set up HDF5 access", name);
        goto cleanup;
    }
    if (H5Lexists(file, path, dapl) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        rc = sgs_error_set(err, SGS_EDATA, "%s: dataset %s is missing", name, path);
        goto cleanup;
    }
    dset = H5Dopen2(file, path, dapl);
    space = dset >= 0 ? H5Dget_space(dset) : -1;
    if (space < 0) {
        char cause[256];
        rc = sgs_h5_guard_read_failure(cause, sizeof cause);
        sgs_error_set(err, rc, "%s: cannot open dataset %s%s%s", name, path, *cause ? ": " : "",
                      cause);
        goto cleanup;
    }
    if (H5Sget_simple_extent_ndims(space) != 1) {
        rc = sgs_error_set(err, SGS_EDATA, "%s: dataset %s is not one-dimensional", name, path);
        goto cleanup;
    }
    if (sgs_h5_guard_dataset(file, dset, &rule, 1, &why) != SGS_OK) {
        rc = sgs_error_set(err, why.code, "%s: %s: %s", name, path, why.text);
        goto cleanup;
    }
    hsize_t len;
    H5Sget_simple_extent_dims(space, &len, NULL);
    data = sgs_alloc_array((size_t)len, sgs_h5_type_size(type));
    if (!data) {
        rc = sgs_error_set(err, SGS_ENOMEM, "%s: dataset %s: out of memory for %llu rows", name,
                           path, (unsigned long long)len);
        goto cleanup;
    }
    if (len > 0 && H5Dread(dset, sgs_h5_mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        char cause[256];
        rc = sgs_h5_guard_read_failure(cause, sizeof cause);
        sgs_error_set(err, rc, "%s: cannot read dataset %s%s%s%s", name, path,
                      rc == SGS_EDATA ? ": the stored data is malformed" : "", *cause ? ": " : "",
                      cause);
        goto cleanup;
    }
    *out = data;
    *n = (size_t)len;
    data = NULL;
    rc = SGS_OK;
cleanup:
    sgs_free(data);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    if (dapl >= 0)
        H5Pclose(dapl);
    sgs_h5_crash_disarm();
    return rc;
}

/* ---- Attributes --------------------------------------------------------------------- */

/* Write an attribute of memory type mtype / file type ftype and n values (0: a scalar) on
 * obj_path, replacing one of the same name. */
static int write_attr(hid_t file, const char *obj_path, const char *name, hid_t ftype, hid_t mtype,
                      size_t n, const void *value, sgs_error_t *err)
{
    hsize_t dims = n;
    hid_t space = n ? H5Screate_simple(1, &dims, NULL) : H5Screate(H5S_SCALAR), attr = -1;
    int rc = SGS_EIO;
    if (space < 0)
        goto cleanup;
    if (H5Aexists_by_name(file, obj_path, name, H5P_DEFAULT) > 0 &&
        H5Adelete_by_name(file, obj_path, name, H5P_DEFAULT) < 0)
        goto cleanup;
    attr = H5Acreate_by_name(file, obj_path, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, mtype, value) < 0)
        goto cleanup;
    rc = SGS_OK;
cleanup:
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    if (rc)
        rc = sgs_h5_write_error(err, file, "cannot write attribute %s on %s", name, obj_path);
    return rc;
}

int sgs_h5_attr_string(hid_t file, const char *obj_path, const char *name, const char *value,
                       sgs_error_t *err)
{
    hid_t type = vlen_utf8();
    if (type < 0)
        return sgs_error_set(err, SGS_EIO, "cannot make string type for attribute %s", name);
    int rc = write_attr(file, obj_path, name, type, type, 0, &value, err);
    H5Tclose(type);
    return rc;
}

int sgs_h5_attr_double(hid_t file, const char *obj_path, const char *name, double value,
                       sgs_error_t *err)
{
    return write_attr(file, obj_path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &value, err);
}

int sgs_h5_attr_int64(hid_t file, const char *obj_path, const char *name, int64_t value,
                      sgs_error_t *err)
{
    return write_attr(file, obj_path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &value, err);
}

/* Open attribute `name` of obj_path, or fail with SGS_EDATA naming it. */
static hid_t open_attr(hid_t file, const char *obj_path, const char *name, sgs_error_t *err)
{
    if (H5Aexists_by_name(file, obj_path, name, H5P_DEFAULT) <= 0) {
        sgs_error_set(err, SGS_EDATA, "attribute %s is missing on %s", name, obj_path);
        return -1;
    }
    hid_t attr = H5Aopen_by_name(file, obj_path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0)
        sgs_error_set(err, SGS_EIO, "cannot open attribute %s on %s", name, obj_path);
    return attr;
}

int sgs_h5_attr_read_double(hid_t file, const char *obj_path, const char *name, double *value,
                            sgs_error_t *err)
{
    hid_t attr = open_attr(file, obj_path, name, err);
    if (attr < 0)
        return err ? err->code : SGS_EDATA;
    herr_t st = H5Aread(attr, H5T_NATIVE_DOUBLE, value);
    H5Aclose(attr);
    return st < 0
               ? sgs_error_set(err, SGS_EDATA, "attribute %s on %s is not a number", name, obj_path)
               : SGS_OK;
}

int sgs_h5_attr_read_int64(hid_t file, const char *obj_path, const char *name, int64_t *value,
                           sgs_error_t *err)
{
    hid_t attr = open_attr(file, obj_path, name, err);
    if (attr < 0)
        return err ? err->code : SGS_EDATA;
    herr_t st = H5Aread(attr, H5T_NATIVE_INT64, value);
    H5Aclose(attr);
    return st < 0 ? sgs_error_set(err, SGS_EDATA, "attribute %s on %s is not an integer", name,
                                  obj_path)
                  : SGS_OK;
}

int sgs_h5_attr_read_string(hid_t file, const char *obj_path, const char *name, char *buf,
                            size_t size, sgs_error_t *err)
{
    hid_t attr = open_attr(file, obj_path, name, err);
    if (attr < 0)
        return err ? err->code : SGS_EDATA;
    int rc = SGS_OK;
    hid_t ftype = H5Aget_type(attr);
    hid_t mtype = vlen_utf8();
    if (ftype < 0 || mtype < 0 || H5Tget_class(ftype) != H5T_STRING) {
        rc = sgs_error_set(err, SGS_EDATA, "attribute %s on %s is not a string", name, obj_path);
    } else if (H5Tis_variable_str(ftype) > 0) {
        char *value = NULL;
        if (H5Aread(attr, mtype, &value) < 0) {
            rc = sgs_error_set(err, SGS_EIO, "cannot read attribute %s on %s", name, obj_path);
        } else {
            snprintf(buf, size, "%s", value ? value : "");
            H5free_memory(value);
        }
    } else {
        size_t len = H5Tget_size(ftype);
        char *tmp = calloc(len + 1, 1);
        if (!tmp || H5Aread(attr, ftype, tmp) < 0)
            rc = sgs_error_set(err, SGS_EIO, "cannot read attribute %s on %s", name, obj_path);
        else
            snprintf(buf, size, "%s", tmp);
        free(tmp);
    }
    if (mtype >= 0)
        H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    H5Aclose(attr);
    return rc;
}

int sgs_h5_attr_strings(hid_t file, const char *obj_path, const char *name,
                        const char *const *values, size_t n, sgs_error_t *err)
{
    hid_t type = vlen_utf8();
    if (type < 0)
        return sgs_error_set(err, SGS_EIO, "cannot make string type for attribute %s", name);
    int rc = write_attr(file, obj_path, name, type, type, n, values, err);
    H5Tclose(type);
    return rc;
}
