/*
 * io/h5_guard.c — refuse hostile or broken HDF5 input up front. See h5_guard.h.
 *
 * Sections: the refusal; the HDF5 error stack; the superblock (truncation, open-for-write
 * flag); open failures; links. The checks of a dataset (where the data lives, type,
 * filters, storage) are io/h5_guard_dataset.c, those of its chunks io/h5_guard_chunks.c.
 */
#define _DEFAULT_SOURCE /* pread */

#include "io/h5_guard.h"

#include "io/h5_guard_internal.h"

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

/* ---- The refusal (h5_guard_internal.h) ------------------------------------------------- */

int sgs__guard_refuse(sgs_h5_refusal_t *why, int code, sgs_h5_refusal_kind_t kind, const char *fmt,
                      ...)
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
        return sgs__guard_refuse(
            why, SGS_ETEMPFAIL, SGS_H5_REFUSE_FILE,
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
        return sgs__guard_refuse(
            why, SGS_EDATA, SGS_H5_REFUSE_FILE,
            "file truncated: %lld bytes, the superblock declares %llu (an interrupted "
            "copy or a full disk?); get the whole file again",
            (long long)st.st_size, (unsigned long long)sb.eof);
    if (s.truncated)
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILE, "file truncated: %s", s.inner);
    if (have_sb && sb.version >= 3 && (sb.flags & 0x5u))
        return sgs__guard_refuse(
            why, SGS_ETEMPFAIL, SGS_H5_REFUSE_FILE,
            "file is marked open for writing in its superblock: a writer is still "
            "writing it (retry when it has closed the file) or crashed before closing "
            "it (then h5clear -s on a copy, and check the data)");
    if (s.nomem)
        return sgs__guard_refuse(why, SGS_ENOMEM, SGS_H5_REFUSE_FILE,
                                 "out of memory opening the file");
    if (s.io)
        return sgs__guard_refuse(why, SGS_EIO, SGS_H5_REFUSE_FILE, "cannot open the HDF5 file: %s",
                                 *s.inner ? s.inner : "I/O error");
    return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_FILE,
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
        return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "path too long");
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
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK, "path too long");
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
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                                     "the link %s cannot be read", prefix);
        }
        if (li.type == H5L_TYPE_HARD)
            continue;
        if (li.type == H5L_TYPE_EXTERNAL) {
            char target[MAX_PATH + 64];
            external_target(file, prefix, li.u.val_size, target, sizeof target);
            if (*via)
                return sgs__guard_refuse(
                    why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                    "%s, and %s is an external link to %s: it leaves the file; "
                    "segscore reads only data stored in the input file",
                    via, prefix, target);
            if (strcmp(prefix, path) == 0)
                return sgs__guard_refuse(
                    why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                    "is an external link to %s; segscore reads only data stored in "
                    "the input file (copy the data in, e.g. with h5copy)",
                    target);
            return sgs__guard_refuse(
                why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                "reached through %s, an external link to %s; segscore reads only "
                "data stored in the input file",
                prefix, target);
        }
        if (li.type != H5L_TYPE_SOFT)
            return sgs__guard_refuse(
                why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                "%s is a user-defined link (type %d); segscore follows only hard and "
                "soft links inside the file",
                prefix, (int)li.type);
        /* A soft link: walk its target instead, followed by the rest of the path. */
        char target[MAX_PATH];
        if (li.u.val_size == 0 || li.u.val_size > sizeof target ||
            H5Lget_val(file, prefix, target, li.u.val_size, H5P_DEFAULT) < 0) {
            H5Eclear2(H5E_DEFAULT);
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                                     "%s is a soft link whose target cannot be read", prefix);
        }
        target[li.u.val_size - 1] = '\0';
        if (++hops > MAX_SOFT_HOPS)
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                                     "more than %d soft links in a chain (a loop?) at %s",
                                     MAX_SOFT_HOPS, prefix);
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
            return sgs__guard_refuse(why, SGS_EDATA, SGS_H5_REFUSE_LINK,
                                     "soft link target too long at %s", prefix);
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
