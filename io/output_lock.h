/*
 * io/output_lock.h — one writer per output: every command that writes a file takes the lock of
 * that file before any work and holds it to the end, so that two commands writing the same
 * output never run at once (docs/publishing.md).
 *
 * The lock of an output path is an fcntl write lock on `<state folder>/lock`, where the state
 * folder is `.<name>.segscore` beside the output: the folder `segscore run` publishes its
 * output set through (io/publish.h), which locks the set by its results file. So a run and an
 * import writing the same results path exclude each other too. The kernel releases the lock
 * when its process ends, however it ends: a lock file left by a killed command is simply
 * taken by the next one, which writes its own pid and command name into it ("<pid> <command>").
 *
 *   sgs_output_lock_t lock = SGS_OUTPUT_LOCK_INIT;
 *   rc = sgs_output_lock_take("out/data.h5", "import", &lock, &err);   // 75 when held
 *   ... write out/data.h5 ...
 *   sgs_output_lock_release(&lock);
 *
 * The lock needs a file system with working POSIX locks (local file systems; NFS with a lock
 * manager). Not thread-safe: one process takes a lock once (fcntl locks belong to the
 * process, a second take in the same process would succeed).
 */
#ifndef SGS_OUTPUT_LOCK_H
#define SGS_OUTPUT_LOCK_H

#include "kernels/core.h"

#include <stddef.h>

typedef struct sgs_output_lock {
    int fd; /* the open lock file while held; -1 when not held */
} sgs_output_lock_t;

/* A lock not held, for initialization. */
#define SGS_OUTPUT_LOCK_INIT ((sgs_output_lock_t){.fd = -1})

/* The state folder of output `path`: ".<name>.segscore" in the output's folder (a relative
 * path for a path without a folder part). @return 0; SGS_EINVAL when it does not fit in `size`
 * bytes. */
int sgs_output_state_dir(const char *path, char *out, size_t size, sgs_error_t *err);

/* Take the lock of output `path` for `command` ("run", "import": written into the lock file
 * after the pid, and named by a command that finds the lock held). The state folder is made
 * when missing; the path must have passed io/output_paths.h's checks. Never waits.
 * `what` says what the holder writes, for the message ("these outputs", "this file").
 * @return 0 with *lock held; SGS_ETEMPFAIL when another process holds it: "<path>: another
 * segscore <its command> (pid N) is writing <what> (lock <lock file>); try again when it has
 * finished" (the pid is the kernel's answer; the command name is the lock file's when the
 * file names that pid, else "command"); SGS_ECANTCREAT when the state folder or the lock file
 * cannot be made, locked or written; SGS_EINVAL for a path too long. */
int sgs_output_lock_take(const char *path, const char *command, const char *what,
                         sgs_output_lock_t *lock, sgs_error_t *err);

/* 1 while *lock is held. */
int sgs_output_lock_held(const sgs_output_lock_t *lock);

/* Release the lock (close its file). Safe on a lock not held, and twice. The lock file and its
 * state folder stay: the next writer takes the same file. */
void sgs_output_lock_release(sgs_output_lock_t *lock);

#endif
