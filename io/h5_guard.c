/*
 * io/h5_guard.c — refuse hostile or broken HDF5 input up front. See h5_guard.h.
 *
 * Sections: the HDF5 error stack; the superblock (truncation, open-for-write flag); open
 * failures; links; datasets (where the data lives, type, filters, storage).
 */
#define _DEFAULT_SOURCE /* pread */

#include "io/h5_guard.h"

#include "io/h5_decoded_size.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SOFT_HOPS 16 /* HDF5's own default limit of links in a chain (H5L_NUM_LINKS) */
#define MAX_PATH 1024

__attribute__((format(printf, 4, 5))) static int
refuse(sgs_h5_refusal_t *why, int code, sgs_h5_refusal_kind_t kind, const char *fmt, ...)
{
    why->code = code;
    why->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->text, sizeof why->text, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- The HDF5 error stack --------------------------------------------------------------- */

typedef struct stack_scan {
    int locked;    /* H5E_CANTLOCKFILE: another process holds the file lock */
    int truncated; /* H5E_TRUNCATED */
    int io;        /* the innermost error is a Low-level I/O one: read(2) or seek failed */
    int pline;     /* a filter pipeline error */
    int nomem;     /* the innermost error is an allocation failure */
    char inner[256];
} stack_scan_t;

static herr_t scan_entry(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    stack_scan_t *s = data;
    if (e->min_num == H5E_CANTLOCKFILE)
        s->locked = 1;
    if (e->min_num == H5E_TRUNCATED)
        s->truncated = 1;
    if (e->maj_num == H5E_PLINE)
        s->pline = 1;
    /* Walking downward, the last entry is the innermost, the cause; the outer ones wrap it
     * (a read past the end of allocated space is wrapped in "read failed" I/O errors) */
    s->io = e->maj_num == H5E_IO;
    s->nomem =
        e->maj_num == H5E_RESOURCE && (e->min_num == H5E_NOSPACE || e->min_num == H5E_CANTALLOC);
    if (e->desc && *e->desc)
        snprintf(s->inner, sizeof s->inner, "%s", e->desc);
    return 0;
}

/* Read the default error stack and clear it. */
static void scan_stack(stack_scan_t *s)
{
    memset(s, 0, sizeof *s);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, scan_entry, s);
    H5Eclear2(H5E_DEFAULT);
}

int sgs_h5_guard_read_failure(char *cause, size_t size)
{
    stack_scan_t s;
    scan_stack(&s);
    snprintf(cause, size, "%s", s.inner);
    if (s.nomem)
        return SGS_ENOMEM;
    if (s.io && !s.pline)
        return SGS_EIO;
    return SGS_EDATA;
}

/* ---- The superblock (HDF5 File Format Specification, "Superblock") ------------------------
 * Found at offset 0, 512, 1024, 2048, ... (after a user block). Versions 0 and 1: version
 * byte 8, size of offsets byte 13, then after the fixed part (24 bytes, 28 for version 1)
 * the base address, the free-space address, the end-of-file address. Versions 2 and 3:
 * version byte 8, size of offsets byte 9, consistency flags byte 11, then from byte 12 the
 * base address, the extension address, the end-of-file address. The end-of-file address
 * HDF5 compares with the file's size on open (H5F__super_read) is the stored value as it
 * is; so is it here. Little-endian throughout. */

typedef struct superblock {
    int version;
    uint64_t eof;   /* declared end of file, bytes */
    unsigned flags; /* consistency flags (version 3: 0x1 open for write, 0x4 SWMR write) */
} superblock_t;

static uint64_t le_uint(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Read the superblock of the file at fd (size bytes). @return 0, or -1 when none is found
 * or it cannot be parsed. */
static int read_superblock(int fd, uint64_t size, superblock_t *sb)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char b[64];
    for (uint64_t at = 0; at < size; at = at ? 2 * at : 512) {
        ssize_t got = pread(fd, b, sizeof b, (off_t)at);
        if (got < 16)
            return -1;
        if (memcmp(b, sig, sizeof sig) != 0)
            continue;
        int version = b[8];
        size_t o, eof_at;
        if (version <= 1) {
            o = b[13];
            eof_at = (version == 0 ? 24 : 28) + 2 * o;
        } else if (version <= 3) {
            o = b[9];
            eof_at = 12 + 2 * o;
        } else {
            return -1;
        }
        if ((o != 2 && o != 4 && o != 8) || eof_at + o > (size_t)got)
            return -1;
        sb->version = version;
        sb->eof = le_uint(b + eof_at, o);
        sb->flags = version >= 2 ? b[11] : 0;
        return 0;
    }
    return -1;
}

/* ---- Open failures ------------------------------------------------------------------------ */

int sgs_h5_guard_open_failure(const char *path, sgs_h5_refusal_t *why)
{
    stack_scan_t s;
    scan_stack(&s);
    if (s.locked)
        return refuse(why, SGS_ETEMPFAIL, SGS_H5_REFUSE_FILE,
                      "file is locked by another process that has it open for writing (HDF5 "
                      "file locking); retry when the writer has closed it");
    superblock_t sb;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int have_sb =
        fd >= 0 && fstat(fd, &st) == 0 && read_superblock(fd, (uint64_t)st.st_size, &sb) == 0;
    if (fd >= 0)
        close(fd);
    if (have_sb && sb.eof > (uint64_t)st.st_size)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILE,
                      "file truncated: %lld bytes, the superblock declares %llu (an interrupted "
                      "copy or a full disk?); get the whole file again",
                      (long long)st.st_size, (unsigned long long)sb.eof);
    if (s.truncated)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILE, "file truncated: %s", s.inner);
    if (have_sb && sb.version >= 3 && (sb.flags & 0x5u))
        return refuse(why, SGS_ETEMPFAIL, SGS_H5_REFUSE_FILE,
                      "file is marked open for writing in its superblock: a writer is still "
                      "writing it (retry when it has closed the file) or crashed before closing "
                      "it (then h5clear -s on a copy, and check the data)");
    if (s.nomem)
        return refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_FILE, "out of memory opening the file");
    if (s.io)
        return refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE, "cannot open the HDF5 file: %s",
                      *s.inner ? s.inner : "I/O error");
    return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILE,
                  "cannot open the HDF5 file: its metadata is malformed (%s)",
                  *s.inner ? s.inner : "HDF5 gives no reason");
}

/* ---- Links -------------------------------------------------------------------------------- */

#if H5_VERSION_GE(1, 12, 0)
typedef H5L_info2_t link_info_t;
#define LGET_INFO H5Lget_info2
#else
typedef H5L_info_t link_info_t;
#define LGET_INFO H5Lget_info
#endif

/* The external link's target as "file:/object" into buf. */
static void external_target(hid_t file, const char *link, size_t val_size, char *buf, size_t size)
{
    char val[MAX_PATH];
    const char *tfile = NULL, *tobj = NULL;
    unsigned flags = 0;
    snprintf(buf, size, "(target unreadable)");
    if (val_size == 0 || val_size > sizeof val ||
        H5Lget_val(file, link, val, val_size, H5P_DEFAULT) < 0 ||
        H5Lunpack_elink_val(val, val_size, &flags, &tfile, &tobj) < 0)
        return;
    snprintf(buf, size, "%s:%s", tfile ? tfile : "?", tobj ? tobj : "?");
}

int sgs_h5_guard_path(hid_t file, const char *path, sgs_h5_refusal_t *why)
{
    char cur[MAX_PATH], via[2 * MAX_PATH + 32] = "";
    if (strlen(path) >= sizeof cur)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "path too long");
    snprintf(cur, sizeof cur, "%s", path);
    int hops = 0;
restart:;
    /* prefix: the components checked so far, normalized as HDF5 reads a path (repeated
     * slashes are one, "." is the group itself) */
    char prefix[MAX_PATH] = "";
    size_t plen = 0;
    const char *p = cur;
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            return SGS_OK;
        size_t len = strcspn(p, "/");
        if (len == 1 && p[0] == '.') {
            p++;
            continue;
        }
        if (plen + 1 + len >= sizeof prefix)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "path too long");
        prefix[plen++] = '/';
        memcpy(prefix + plen, p, len);
        plen += len;
        prefix[plen] = '\0';
        p += len; /* the rest of the path, "" or from a '/' */
        /* Every component before this one is a hard link (checked), so neither call
         * traverses anything unchecked: the last component of a path is never followed. */
        htri_t exists = H5Lexists(file, prefix, H5P_DEFAULT);
        if (exists <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return SGS_OK; /* missing (or below a dataset): the caller says so */
        }
        link_info_t li;
        if (LGET_INFO(file, prefix, &li, H5P_DEFAULT) < 0) {
            H5Eclear2(H5E_DEFAULT);
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "the link %s cannot be read", prefix);
        }
        if (li.type == H5L_TYPE_HARD)
            continue;
        if (li.type == H5L_TYPE_EXTERNAL) {
            char target[MAX_PATH + 64];
            external_target(file, prefix, li.u.val_size, target, sizeof target);
            if (*via)
                return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                              "%s, and %s is an external link to %s: it leaves the file; "
                              "segscore reads only data stored in the input file",
                              via, prefix, target);
            if (strcmp(prefix, path) == 0)
                return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                              "is an external link to %s; segscore reads only data stored in "
                              "the input file (copy the data in, e.g. with h5copy)",
                              target);
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                          "reached through %s, an external link to %s; segscore reads only "
                          "data stored in the input file",
                          prefix, target);
        }
        if (li.type != H5L_TYPE_SOFT)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                          "%s is a user-defined link (type %d); segscore follows only hard and "
                          "soft links inside the file",
                          prefix, (int)li.type);
        /* A soft link: walk its target instead, followed by the rest of the path. */
        char target[MAX_PATH];
        if (li.u.val_size == 0 || li.u.val_size > sizeof target ||
            H5Lget_val(file, prefix, target, li.u.val_size, H5P_DEFAULT) < 0) {
            H5Eclear2(H5E_DEFAULT);
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                          "%s is a soft link whose target cannot be read", prefix);
        }
        target[li.u.val_size - 1] = '\0';
        if (++hops > MAX_SOFT_HOPS)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                          "more than %d soft links in a chain (a loop?) at %s", MAX_SOFT_HOPS,
                          prefix);
        if (!*via && strcmp(prefix, path) == 0)
            snprintf(via, sizeof via, "is a soft link to %s", target);
        else if (!*via)
            snprintf(via, sizeof via, "goes through %s, a soft link to %s", prefix, target);
        /* a relative target is relative to the group holding the link */
        char next[MAX_PATH];
        int parent = (int)(strrchr(prefix, '/') - prefix);
        int n = target[0] == '/'
                    ? snprintf(next, sizeof next, "%s%s", target, p)
                    : snprintf(next, sizeof next, "%.*s/%s%s", parent, prefix, target, p);
        if (n < 0 || (size_t)n >= sizeof next)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "soft link target too long at %s",
                          prefix);
        memcpy(cur, next, (size_t)n + 1);
        goto restart;
    }
}

/* The external-link traversal callback of sgs_h5_guard_dapl: always refuses. */
static herr_t deny_external(const char *parent_file, const char *parent_group,
                            const char *child_file, const char *child_object, unsigned *acc_flags,
                            hid_t fapl, void *data)
{
    (void)parent_file, (void)parent_group, (void)child_file, (void)child_object;
    (void)acc_flags, (void)fapl, (void)data;
    return -1;
}

hid_t sgs_h5_guard_dapl(void)
{
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS); /* a kind of link access list */
    if (dapl >= 0 && H5Pset_elink_cb(dapl, deny_external, NULL) < 0) {
        H5Pclose(dapl);
        return -1;
    }
    return dapl;
}

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
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                      "elements are %s declaring %zu bits of precision at bit offset %d, more "
                      "than their %zu bits (a damaged type: libhdf5 would read the bits beside "
                      "each element)",
                      tname, precision, offset, bits);
    if (cls != H5T_FLOAT)
        return SGS_OK;
    size_t sign = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    if (H5Tget_fields(type, &sign, &epos, &esize, &mpos, &msize) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                      "elements are %s whose bit fields cannot be read", tname);
    }
    if (sign >= bits || esize > bits || epos > bits - esize || msize > bits || mpos > bits - msize)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
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
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE, "elements are %s; %s must be %s (%s)",
                      tname, rule->name,
                      rule->classes == SGS_H5_INTEGERS ? "an integer type"
                      : rule->classes == SGS_H5_FLOATS ? "floating point"
                                                       : "numeric",
                      rule->type_name);
    if (bytes == 0 || bytes > rule->max_bytes)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                      "elements are %s; %s accepts %s types of at most %zu bytes (%s), checked "
                      "before any read",
                      tname, rule->name, kind, rule->max_bytes, rule->type_name);
    H5T_order_t order = H5Tget_order(type);
    if (bytes > 1 && order != H5T_ORDER_LE && order != H5T_ORDER_BE)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_TYPE,
                      "elements are %s in an unusual byte order; %s must be little- or "
                      "big-endian",
                      tname, rule->name);
    return check_bits(type, cls, bytes, tname, why);
}

/* The pipeline of a chunked dataset as the walk over its chunks needs it. */
typedef struct pipeline {
    int n;
    H5Z_filter_t id[H5Z_MAX_NFILTERS];
    unsigned optional_missing; /* bits of optional filters this library lacks */
} pipeline_t;

/* Every filter of the pipeline must be available and able to decode. A required filter
 * that is not is refused here. An optional one (H5Z_FLAG_OPTIONAL) may have been skipped
 * when a chunk was written (the chunk's filter mask says so), so its pipeline bit goes to
 * p->optional_missing for check_stored_chunks once the chunks are known complete. */
static int check_filters(hid_t dcpl, pipeline_t *p, sgs_h5_refusal_t *why)
{
    memset(p, 0, sizeof *p);
    int n = H5Pget_nfilters(dcpl);
    if (n > H5Z_MAX_NFILTERS)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
                      "declares %d filters, more than HDF5's %d", n, H5Z_MAX_NFILTERS);
    p->n = n < 0 ? 0 : n;
    for (int i = 0; i < n; i++) {
        unsigned flags = 0, config = 0, cd[16];
        size_t n_cd = sizeof cd / sizeof cd[0];
        char name[128] = "";
        H5Z_filter_t id =
            H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
        if (id < 0)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
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
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
                      "dataset needs filter %d (%s), not available in this HDF5 library%s; "
                      "install the filter plugin (HDF5_PLUGIN_PATH) or rewrite the file "
                      "without it (h5repack -f NONE)",
                      (int)id, sgs_h5_guard_filter_name(id, name),
                      avail > 0 ? " for decoding" : "");
    }
    return SGS_OK;
}

/* The chunk grid of a chunked dataset of one or two dimensions. */
#define MAX_RANK 2

typedef struct chunk_grid {
    int rank;                  /* 1 or 2 */
    hsize_t dims[MAX_RANK];    /* extent */
    hsize_t cdims[MAX_RANK];   /* chunk shape, each >= 1 */
    uint64_t across[MAX_RANK]; /* chunks along each dimension */
    uint64_t n;                /* chunks the extent needs */
    uint64_t chunk_elems;      /* elements of one whole chunk */
} chunk_grid_t;

static int chunk_grid(hid_t dcpl, hid_t space, chunk_grid_t *g, sgs_h5_refusal_t *why)
{
    memset(g, 0, sizeof *g);
    g->rank = H5Sget_simple_extent_ndims(space);
    if (g->rank < 1 || g->rank > MAX_RANK ||
        H5Sget_simple_extent_dims(space, g->dims, NULL) != g->rank)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable extent");
    if (H5Pget_chunk(dcpl, g->rank, g->cdims) != g->rank)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable chunk shape");
    g->n = 1;
    g->chunk_elems = 1;
    for (int i = 0; i < g->rank; i++) {
        if (g->cdims[i] == 0)
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable chunk shape");
        g->across[i] = g->dims[i] / g->cdims[i] + (g->dims[i] % g->cdims[i] != 0);
        if ((g->across[i] && g->n > UINT64_MAX / g->across[i]) ||
            g->chunk_elems > UINT64_MAX / g->cdims[i])
            return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                          "declares more chunks than any file can hold");
        g->n *= g->across[i];
        g->chunk_elems *= g->cdims[i];
    }
    return SGS_OK;
}

/* The first element of chunk k (row-major order of the grid). */
static void chunk_offset(const chunk_grid_t *g, uint64_t k, hsize_t *offset)
{
    for (int i = g->rank - 1; i >= 0; i--) {
        offset[i] = (hsize_t)(k % g->across[i]) * g->cdims[i];
        k /= g->across[i];
    }
}

/* "rows 4..7", or "rows 4..7, columns 0..2" for two dimensions: what the chunk at offset
 * holds. */
static void chunk_place(const chunk_grid_t *g, const hsize_t *offset, char *buf, size_t size)
{
    hsize_t end[MAX_RANK];
    for (int i = 0; i < g->rank; i++)
        end[i] = offset[i] + g->cdims[i] < g->dims[i] ? offset[i] + g->cdims[i] : g->dims[i];
    int n = snprintf(buf, size, "rows %llu..%llu", (unsigned long long)offset[0],
                     (unsigned long long)(end[0] - 1));
    if (g->rank > 1 && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ", columns %llu..%llu", (unsigned long long)offset[1],
                 (unsigned long long)(end[1] - 1));
}

/* A chunk stored through an optional filter this library lacks (its filter mask bit clear)
 * cannot be decoded: refused naming the filter. */
static int refuse_missing_filter(hid_t dcpl, unsigned used, const char *place,
                                 sgs_h5_refusal_t *why)
{
    int i = __builtin_ctz(used);
    unsigned flags = 0, config = 0, cd[16];
    size_t n_cd = sizeof cd / sizeof cd[0];
    char name[128] = "";
    H5Z_filter_t id =
        H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_cd, cd, sizeof name, name, &config);
    return refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILTER,
                  "%s were stored through filter %d (%s, optional), not available in this "
                  "HDF5 library; install the filter plugin (HDF5_PLUGIN_PATH) or rewrite "
                  "the file without it (h5repack -f NONE)",
                  place, (int)id, sgs_h5_guard_filter_name(id, name));
}

/* One stored chunk as the index describes it. */
typedef struct stored_chunk {
    hsize_t offset[MAX_RANK];
    unsigned mask; /* bit i set: filter i skipped */
    haddr_t addr;
    hsize_t bytes;
} stored_chunk_t;

/* What the index alone says against chunk c (stored through a missing optional filter,
 * past the end of the file, or unfiltered in fewer bytes than its chunk needs: the fuzz
 * finding over-read-in-h5vm-memcpyvv, libhdf5 copying the missing rows from beyond its
 * buffer). @return 0 or the refusal. */
static int check_chunk_index(hid_t dcpl, const pipeline_t *p, const chunk_grid_t *g,
                             const stored_chunk_t *c, uint64_t want, hsize_t file_bytes,
                             sgs_h5_refusal_t *why)
{
    char place[96];
    chunk_place(g, c->offset, place, sizeof place);
    unsigned used = p->optional_missing & ~c->mask;
    unsigned all = p->n >= 32 ? ~0u : (1u << p->n) - 1;
    if ((uint64_t)c->addr > (uint64_t)file_bytes || c->bytes > (uint64_t)file_bytes - c->addr)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%s are stored at bytes %llu..%llu, past the end of the file (%llu bytes)",
                      place, (unsigned long long)c->addr, (unsigned long long)(c->addr + c->bytes),
                      (unsigned long long)file_bytes);
    if (used)
        return refuse_missing_filter(dcpl, used, place, why);
    if ((c->mask & all) == all && (uint64_t)c->bytes < want)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%s are stored unfiltered in %llu bytes, fewer than the %llu their chunk "
                      "needs (chunk elements x element size)",
                      place, (unsigned long long)c->bytes, (unsigned long long)want);
    return SGS_OK;
}

/* The refusal for a filtered chunk that decodes to `r` (`decoded` bytes) instead of want. */
static int refuse_decoded(const chunk_grid_t *g, const stored_chunk_t *c, sgs_h5_decoded_t r,
                          size_t decoded, uint64_t want, sgs_h5_refusal_t *why)
{
    char place[96];
    chunk_place(g, c->offset, place, sizeof place);
    switch (r) {
    case SGS_H5_DECODED_OK:
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%s decode to %zu bytes, not the %llu their chunk needs (chunk elements "
                      "x element size): the chunk is damaged",
                      place, decoded, (unsigned long long)want);
    case SGS_H5_DECODED_TOO_BIG:
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%s decode to more than the %llu bytes their chunk needs: the chunk is "
                      "damaged",
                      place, (unsigned long long)want);
    case SGS_H5_DECODED_NOMEM:
        return refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE, "out of memory decoding %s", place);
    default:
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%s cannot be decoded (a broken compressed stream): the chunk is damaged",
                      place);
    }
}

#define DECODE_BATCH_BYTES ((size_t)32 << 20) /* stored bytes read before decoding them */

/* Filtered chunks [0, end) whose filters h5_decoded_size.h models decode to exactly `want`
 * bytes (libhdf5 copies the rows a short one lacks from beyond its buffer). Chunks are read
 * raw (H5Dread_chunk, serially: HDF5) in batches of about DECODE_BATCH_BYTES and decoded
 * in parallel, their output dropped; the first bad chunk in index order is refused, so the
 * answer does not depend on n_threads. */
static int check_decoded_sizes(hid_t dset, const pipeline_t *p, const chunk_grid_t *g,
                               const stored_chunk_t *chunks, uint64_t end, uint64_t want,
                               int n_threads, sgs_h5_refusal_t *why)
{
    unsigned all = p->n >= 32 ? ~0u : (1u << p->n) - 1;
    size_t cap = DECODE_BATCH_BYTES, n_max = (size_t)end;
    unsigned char *raw = NULL;
    size_t *at = calloc(n_max ? n_max : 1, sizeof *at),
           *decoded = calloc(n_max ? n_max : 1, sizeof *decoded);
    sgs_h5_decoded_t *result = calloc(n_max ? n_max : 1, sizeof *result);
    int rc = SGS_OK;
    if (!at || !decoded || !result) {
        rc = refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE, "out of memory for the chunk index");
        goto cleanup;
    }
    for (uint64_t lo = 0; lo < end && rc == SGS_OK;) {
        /* the batch: chunks [lo, hi) to decode, packed into raw at at[k] */
        size_t used = 0;
        uint64_t hi = lo;
        for (; hi < end; hi++) {
            const stored_chunk_t *c = &chunks[hi];
            at[hi] = SIZE_MAX; /* not decoded */
            if ((c->mask & all) == all || !sgs_h5_decoded_size_known(p->id, p->n, c->mask))
                continue;
            if (used > 0 && c->bytes > cap - used)
                break;
            if (c->bytes > cap) { /* one chunk larger than a batch: a batch of its own */
                unsigned char *grown = realloc(raw, (size_t)c->bytes);
                if (!grown) {
                    rc = refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                                "out of memory for a stored chunk of %llu bytes",
                                (unsigned long long)c->bytes);
                    goto cleanup;
                }
                raw = grown;
                cap = (size_t)c->bytes;
            } else if (!raw && !(raw = malloc(cap))) {
                rc = refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                            "out of memory for the chunks being checked");
                goto cleanup;
            }
            uint32_t raw_mask = 0;
            if (H5Dread_chunk(dset, H5P_DEFAULT, c->offset, &raw_mask, raw + used) < 0) {
                char cause[256], place[96];
                int code = sgs_h5_guard_read_failure(cause, sizeof cause);
                chunk_place(g, c->offset, place, sizeof place);
                rc = refuse(why, code, SGS_H5_REFUSE_STORAGE,
                            "cannot read the stored chunk of %s%s%s", place, *cause ? ": " : "",
                            cause);
                goto cleanup;
            }
            at[hi] = used;
            used += (size_t)c->bytes;
        }
        long long n_batch = (long long)(hi - lo);
#pragma omp parallel for num_threads(n_threads > 0 ? n_threads : 1) schedule(dynamic, 1)
        for (long long j = 0; j < n_batch; j++) {
            size_t k = (size_t)lo + (size_t)j;
            if (at[k] != SIZE_MAX)
                result[k] = sgs_h5_decoded_size(p->id, p->n, chunks[k].mask, raw + at[k],
                                                (size_t)chunks[k].bytes, (size_t)want, &decoded[k]);
        }
        for (uint64_t k = lo; k < hi; k++)
            if (at[k] != SIZE_MAX && (result[k] != SGS_H5_DECODED_OK || decoded[k] != want)) {
                rc = refuse_decoded(g, &chunks[k], result[k], decoded[k], want, why);
                break;
            }
        lo = hi;
    }
cleanup:
    free(raw);
    free(at);
    free(decoded);
    free(result);
    return rc;
}

/* Every stored chunk: the index's own checks (check_chunk_index) and the decoded sizes
 * (check_decoded_sizes); the first chunk with a problem, in index order, is named. Called
 * after check_chunked, so the chunks are all stored and the walk (one index lookup per
 * chunk) is bounded by the chunks the file really holds. */
static int check_stored_chunks(hid_t file, hid_t dset, hid_t dcpl, const pipeline_t *p,
                               const chunk_grid_t *g, size_t elem, int n_threads,
                               sgs_h5_refusal_t *why)
{
    hsize_t file_bytes = 0;
    if (H5Fget_filesize(file, &file_bytes) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE, "cannot read the file's size");
    }
    uint64_t want = g->chunk_elems * elem; /* chunk_grid checked chunk_elems x 8 */
    stored_chunk_t *chunks = calloc((size_t)g->n, sizeof *chunks);
    if (!chunks)
        return refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_STORAGE,
                      "out of memory for an index of %llu chunks", (unsigned long long)g->n);
    int rc = SGS_OK;
    sgs_h5_refusal_t first_bad = {0};
    uint64_t k = 0;
    for (; k < g->n; k++) {
        stored_chunk_t *c = &chunks[k];
        chunk_offset(g, k, c->offset);
        c->addr = HADDR_UNDEF;
        if (H5Dget_chunk_info_by_coord(dset, c->offset, &c->mask, &c->addr, &c->bytes) < 0 ||
            c->addr == HADDR_UNDEF) {
            H5Eclear2(H5E_DEFAULT);
            refuse(&first_bad, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                   "its chunk index cannot be read (malformed)");
            break;
        }
        if (check_chunk_index(dcpl, p, g, c, want, file_bytes, &first_bad) != SGS_OK)
            break;
    }
    rc = check_decoded_sizes(dset, p, g, chunks, k, want, n_threads, why);
    if (rc == SGS_OK && first_bad.code) {
        *why = first_bad;
        rc = first_bad.code;
    }
    free(chunks);
    return rc;
}

/* Contiguous storage: allocated, as large as the extent, inside the file. */
static int check_contiguous(hid_t file, hid_t dset, uint64_t need, sgs_h5_refusal_t *why)
{
    H5D_space_status_t status;
    if (H5Dget_space_status(dset, &status) < 0)
        return refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE, "cannot read the storage status");
    if (status == H5D_SPACE_STATUS_NOT_ALLOCATED)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "was never written (no storage allocated: every row would read as the "
                      "fill value)");
    uint64_t stored = (uint64_t)H5Dget_storage_size(dset);
    if (stored < need)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "declares %llu bytes of data (rows x element size) but stores %llu",
                      (unsigned long long)need, (unsigned long long)stored);
    haddr_t offset = H5Dget_offset(dset);
    hsize_t file_bytes = 0;
    if (offset == HADDR_UNDEF || H5Fget_filesize(file, &file_bytes) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return refuse(why, SGS_EIO, SGS_H5_REFUSE_STORAGE, "cannot locate the data in the file");
    }
    if ((uint64_t)offset > (uint64_t)file_bytes || need > (uint64_t)file_bytes - offset)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "declares %llu bytes of data at offset %llu, past the end of the file "
                      "(%llu bytes)",
                      (unsigned long long)need, (unsigned long long)offset,
                      (unsigned long long)file_bytes);
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
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "declares %llu bytes of data (rows x element size) but its compact "
                      "storage holds %llu",
                      (unsigned long long)need, (unsigned long long)stored);
    return SGS_OK;
}

/* Chunked storage: every chunk the extent needs is stored. Chunks never written read as
 * the fill value, so a file whose writer stopped early would give silent zeros. Counting
 * the stored chunks is one pass over the chunk index; only when some are missing is the
 * first one looked up by coordinate (at most stored + 1 lookups) to name its rows. */
static int check_chunked(hid_t dset, hid_t space, const chunk_grid_t *g, sgs_h5_refusal_t *why)
{
    hsize_t stored = 0;
    if (H5Dget_num_chunks(dset, space, &stored) < 0) { /* 1.10 refuses H5S_ALL here */
        H5Eclear2(H5E_DEFAULT);
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "its chunk index cannot be read (malformed)");
    }
    if ((uint64_t)stored >= g->n)
        return SGS_OK;
    uint64_t first = g->n;
    hsize_t offset[MAX_RANK];
    for (uint64_t k = 0; k < g->n && k <= (uint64_t)stored; k++) {
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        chunk_offset(g, k, offset);
        if (H5Dget_chunk_info_by_coord(dset, offset, &mask, &addr, &size) < 0 ||
            addr == HADDR_UNDEF) {
            H5Eclear2(H5E_DEFAULT);
            first = k;
            break;
        }
    }
    if (first == g->n)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                      "%llu of its %llu chunks were never written (they would read as the fill "
                      "value)",
                      (unsigned long long)(g->n - stored), (unsigned long long)g->n);
    char place[96];
    chunk_place(g, offset, place, sizeof place);
    return refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                  "%s (chunk %llu) were never written; %llu of its %llu chunks are missing and "
                  "would read as the fill value",
                  place, (unsigned long long)first, (unsigned long long)(g->n - stored),
                  (unsigned long long)g->n);
}

#if H5_VERSION_GE(1, 12, 0)
typedef H5O_info2_t obj_info_t;
#define OGET_INFO(obj, info) H5Oget_info3((obj), (info), H5O_INFO_BASIC)
#else
typedef H5O_info_t obj_info_t;
#define OGET_INFO(obj, info) H5Oget_info2((obj), (info), H5O_INFO_BASIC)
#endif

int sgs_h5_guard_dataset(hid_t file, hid_t dset, const sgs_h5_column_rule_t *rule, int n_threads,
                         sgs_h5_refusal_t *why)
{
    memset(why, 0, sizeof *why);
    hid_t dcpl = -1, type = -1, space = -1;
    int rc = SGS_OK;
    obj_info_t in_file, in_dset;
    if (OGET_INFO(file, &in_file) < 0 || OGET_INFO(dset, &in_dset) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE, "cannot describe the dataset");
    }
    if (in_file.fileno != in_dset.fileno)
        return refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                      "is stored in another file; segscore reads only data stored in the input "
                      "file");
    dcpl = H5Dget_create_plist(dset);
    type = H5Dget_type(dset);
    space = H5Dget_space(dset);
    if (dcpl < 0 || type < 0 || space < 0) {
        H5Eclear2(H5E_DEFAULT);
        rc = refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE, "cannot read the dataset's metadata");
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
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
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
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
                    "stores its data in %d external file%s (the first: %s); segscore reads "
                    "only data stored in the input file",
                    n_ext, n_ext == 1 ? "" : "s", name);
        goto cleanup;
    }
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > MAX_RANK) {
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
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
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unreadable extent");
        goto cleanup;
    }
    size_t n_elems = (size_t)n_points, need;
    if (n_elems == 0)
        goto cleanup;
    if (sgs_size_mul(n_elems, H5Tget_size(type), &need) != SGS_OK) {
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE,
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
        rc = chunk_grid(dcpl, space, &grid, why);
        if (rc == SGS_OK)
            rc = check_chunked(dset, space, &grid, why);
        if (rc == SGS_OK)
            rc = check_stored_chunks(file, dset, dcpl, &pipeline, &grid, H5Tget_size(type),
                                     n_threads, why);
        break;
    case H5D_COMPACT:
        rc = check_compact(dset, need, why);
        break;
    default:
        rc = refuse(why, SGS_EDATA, SGS_H5_REFUSE_STORAGE, "has an unknown storage layout (%d)",
                    (int)layout);
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
