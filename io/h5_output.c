/*
 * io/h5_output.c — see h5_output.h.
 */
#include "io/h5_output.h"

#include "io/h5_columns.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void sgs_h5_discard_writes(hid_t f)
{
    void *handle = NULL;
    if (H5Fget_vfd_handle(f, H5P_DEFAULT, &handle) < 0 || !handle)
        return;
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull < 0)
        return;
    dup2(devnull, *(int *)handle);
    close(devnull);
}

int sgs_h5_finish_output(hid_t f, int rc, sgs_error_t *err)
{
    if (rc == SGS_OK && H5Fflush(f, H5F_SCOPE_LOCAL) < 0)
        rc = sgs_h5_write_error(err, f, "cannot write the HDF5 file");
    if (rc == SGS_EIO || rc == SGS_ENOSPACE) {
        /* Flush again into /dev/null: after a failed flush HDF5 1.10 cannot close the file
         * until its metadata cache has written out what the failed flush left (this flush
         * may still report an error; the close then succeeds). */
        sgs_h5_discard_writes(f);
        H5Fflush(f, H5F_SCOPE_LOCAL);
    }
    char name[1024];
    if (rc == SGS_OK && H5Fget_name(f, name, sizeof name) < 0)
        name[0] = '\0';
    if (H5Fclose(f) < 0 && rc == SGS_OK) {
        /* The file is gone from HDF5's tables: name it from before the close. */
        int os_errno, code = sgs_h5_take_failure(&os_errno);
        if (code == SGS_ENOMEM)
            rc = sgs_error_set(err, code, "cannot close the HDF5 file: out of memory");
        else if (os_errno > 0)
            rc = sgs_error_set_os(err, SGS_EIO, os_errno, name[0] ? name : "the HDF5 file",
                                  "cannot close the HDF5 file");
        else
            rc = sgs_error_set(err, SGS_EIO, "cannot close the HDF5 file");
    }
    return rc;
}

/* More than HDF5 allocates for a file it creates or opens (its metadata cache starts at 2 MB). */
#define HEADROOM_BYTES ((size_t)8 << 20)

int sgs_h5_output_headroom(const char *path, sgs_error_t *err)
{
    void *volatile probe = malloc(HEADROOM_BYTES); /* volatile: not optimized away */
    if (!probe)
        return sgs_error_set(err, SGS_ENOMEM, "%s: out of memory: no room to create it", path);
    free(probe);
    return SGS_OK;
}
