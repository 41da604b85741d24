/*
 * io/h5_output.h — finishing an HDF5 output file whose writing may have failed.
 *
 * Every output of segscore is written under a temporary name and renamed into place only
 * when complete (io/atomic_file.h), so after a failed write (disk full, file size limit)
 * the file is removed anyway. HDF5 1.10 then needs help to let go of it: when H5Fclose
 * fails (its final flush cannot write), the file stays half-destroyed in HDF5's tables and
 * HDF5's exit handler crashes (engine/main.c also turns that handler off). So after a write
 * failure the file's descriptor is pointed at /dev/null: HDF5's remaining writes then
 * succeed, and the close releases the file. What HDF5 allocated for the writes that failed
 * is not freed (HDF5 1.10.8; the process exits with status 74 right after).
 */
#ifndef SGS_H5_OUTPUT_H
#define SGS_H5_OUTPUT_H

#include "kernels/core.h"

#include <hdf5.h>

/* Send every later write of HDF5 file f (default sec2 driver) to /dev/null. Only after a
 * write failure, for a file that will be removed. Safe to call more than once. */
void sgs_h5_discard_writes(hid_t f);

/* Flush and close output file f. rc is the writer's status so far: SGS_EIO (a write
 * failed) discards the remaining writes before closing; another error closes normally.
 * Returns rc when it is an error, else SGS_ENOSPACE when the flush or the close ran out of
 * room ("<file>: no space left on device", naming the file HDF5 has open: callers that wrote
 * a temporary rename it, sgs_error_rename), else SGS_EIO when the flush or the close failed
 * (the message does not name the file: callers prefix it), else SGS_OK. SGS_ENOSPACE as rc
 * is treated as SGS_EIO. f is closed in every case. */
int sgs_h5_finish_output(hid_t f, int rc, sgs_error_t *err);

/* 0 when HDF5 can still be given an output file to create or open: when a few megabytes can
 * be allocated now; else SGS_ENOMEM naming path. libhdf5 1.10.8 crashes (SIGSEGV in
 * H5AC_create) when making a file's metadata cache runs out of memory, instead of failing, so
 * writers ask first. Another thread allocating meanwhile can still take the room (a run
 * writes its CSV files while results.h5 is opened): the probe keeps a crash for the case
 * where memory runs out within a few megabytes of this call. */
int sgs_h5_output_headroom(const char *path, sgs_error_t *err);

#endif
