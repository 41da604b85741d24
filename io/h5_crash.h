/*
 * io/h5_crash.h — the last resort against a damaged input file that crashes libhdf5 itself.
 *
 * io/h5_guard.h refuses hostile and broken files before their data is read, through HDF5's
 * public API. Some damage cannot be seen that way, because libhdf5 1.10.8 crashes in the
 * very call that would describe it: a chunked layout message that declares no dimensions
 * makes it divide by a chunk size of 0 (SIGFPE in H5D__chunk_set_info) while the dataset
 * is opened (a declared dimension of 0 it does refuse), and a corrupt local
 * heap makes a link lookup copy from a NULL pointer (SIGSEGV in H5F__accum_read under
 * H5Lexists). There is no earlier call that could look (the chunk shape is known only
 * after the open; the heap is read by the lookup itself); parsing HDF5's metadata by hand
 * would be a second HDF5. So these crashes are caught instead of prevented:
 *
 *   main():   sgs_h5_crash_install("segscore", 65);   // handlers, once, before threads
 *   io/:      sgs_h5_crash_arm(path);  ... HDF5 opens, checks, reads path ...
 *             sgs_h5_crash_disarm();
 *
 * While the calling thread is armed, a SIGSEGV, SIGFPE or SIGBUS raised by the processor in
 * that thread ends the process at once: the handler writes one line with write(2),
 *   "<program>: error: <file>: the HDF5 library crashed reading this file: it is damaged
 *    (signal N)"
 * and calls _exit(exit_status). Nothing else runs: no exit handler, no stdio flush (what
 * stdout held is lost), no cleanup; so the commands arm only while they read their input,
 * before they create any output or temporary file (engine/: run, evaluate, inspect and
 * kmeans read all their input first; run's output set lock is a kernel lock that goes with
 * the process). A fault anywhere else, in another thread, while disarmed, or a signal sent by
 * kill(2), goes to the disposition that was there before the install (the default: the
 * process dies by the signal; under AddressSanitizer, its report): a bug in segscore is
 * never called a damaged file. The handler runs on an alternate signal stack, so that a
 * stack overflow inside libhdf5 is caught too.
 *
 * Without sgs_h5_crash_install (library users, the tests, the fuzz targets), arming costs a
 * thread-local increment and changes nothing.
 *
 * Thread-safety: arm and disarm are per thread and nest (the outermost file is named); the
 * file name is kept once per process, which is enough since HDF5 (a serial build) is called
 * from one thread at a time. Install is not thread-safe; call it once, first.
 */
#ifndef SGS_H5_CRASH_H
#define SGS_H5_CRASH_H

/* Install the handlers of SIGSEGV, SIGFPE and SIGBUS (the previous dispositions kept for
 * faults that are not an armed thread's) and, when the calling thread has none, an
 * alternate signal stack for it. `program` (copied, up to 63 bytes) starts the message;
 * `exit_status` is the status of a crash while armed (segscore: 65, bad input data).
 * @return 0, or -1 with errno set when a handler cannot be installed (nothing changed). */
int sgs_h5_crash_install(const char *program, int exit_status);

/* From now until the matching disarm, a fatal signal of the calling thread names `path`
 * (copied; a longer path is cut at 4095 bytes) as a damaged input. Nests: an inner arm
 * keeps the outer path. */
void sgs_h5_crash_arm(const char *path);

/* Undo one arm of the calling thread (more disarms than arms are ignored). */
void sgs_h5_crash_disarm(void);

/* Disarm the calling thread entirely while code that is not HDF5's runs in the middle of
 * an armed stretch (a caller's callback), then put the arms back:
 *   int armed = sgs_h5_crash_pause(); callback(...); sgs_h5_crash_resume(armed); */
int sgs_h5_crash_pause(void);
void sgs_h5_crash_resume(int armed);

#endif
