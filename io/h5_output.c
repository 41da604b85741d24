/*
 * io/h5_output.c — see h5_output.h.
 */
#include "io/h5_output.h"

#include <fcntl.h>
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
        rc = sgs_error_set(err, SGS_EIO, "cannot write the HDF5 file");
    if (rc == SGS_EIO) {
        /* Flush again into /dev/null: after a failed flush HDF5 1.10 cannot close the file
         * until its metadata cache has written out what the failed flush left (this flush
         * may still report an error; the close then succeeds). */
        sgs_h5_discard_writes(f);
        H5Fflush(f, H5F_SCOPE_LOCAL);
    }
    if (H5Fclose(f) < 0 && rc == SGS_OK)
        rc = sgs_error_set(err, SGS_EIO, "cannot close the HDF5 file");
    return rc;
}
