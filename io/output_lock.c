/*
 * io/output_lock.c — the fcntl lock of an output, in its state folder. See output_lock.h.
 */
#include "io/output_lock.h"

#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sgs_output_state_dir(const char *path, char *out, size_t size, sgs_error_t *err)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (!slash)
        n = snprintf(out, size, ".%s.segscore", path);
    else if (slash == path)
        n = snprintf(out, size, "/.%s.segscore", slash + 1);
    else
        n = snprintf(out, size, "%.*s/.%s.segscore", (int)(slash - path), path, slash + 1);
    if (n < 0 || (size_t)n >= size)
        return sgs_error_set(err, SGS_EINVAL, "%.200s: path too long", path);
    return SGS_OK;
}

/* Who holds the lock on fd's file: the kernel's pid (-1 when it does not say), and the
 * command the holder wrote after its pid when the file names that same pid ("" otherwise: a
 * holder that has not written yet, or a process that is not segscore). */
static long lock_holder(int fd, char *command, size_t size)
{
    command[0] = '\0';
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    long pid = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? (long)fl.l_pid : -1;
    char text[96];
    ssize_t got = pread(fd, text, sizeof text - 1, 0);
    if (got <= 0)
        return pid;
    text[got] = '\0';
    char *end;
    long written = strtol(text, &end, 10);
    if (pid <= 0) /* the kernel did not say: the pid in the file is the best guess */
        pid = written > 0 ? written : -1;
    if (written != pid || *end != ' ')
        return pid;
    size_t len = strcspn(end + 1, " \n");
    if (len > 0 && len < size) {
        memcpy(command, end + 1, len);
        command[len] = '\0';
    }
    return pid;
}

int sgs_output_lock_take(const char *path, const char *command, const char *what,
                         sgs_output_lock_t *lock, sgs_error_t *err)
{
    char state[SGS_PATH_MAX], file[SGS_PATH_MAX + 8];
    lock->fd = -1;
    int rc = sgs_output_state_dir(path, state, sizeof state, err);
    if (rc != SGS_OK)
        return rc;
    snprintf(file, sizeof file, "%s/lock", state);
    if (mkdir(state, 0777) != 0 && errno != EEXIST)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create the folder: %s", state,
                             strerror(errno));
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot create the lock file: %s", file,
                             strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        char holder[32];
        long pid = e == EACCES || e == EAGAIN ? lock_holder(fd, holder, sizeof holder) : 0;
        close(fd);
        if (e != EACCES && e != EAGAIN)
            return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot lock: %s", file, strerror(e));
        if (holder[0])
            return sgs_error_set(err, SGS_ETEMPFAIL,
                                 "%s: another segscore %s (pid %ld) is writing %s (lock %s); try "
                                 "again when it has finished",
                                 path, holder, pid, what, file);
        return sgs_error_set(err, SGS_ETEMPFAIL,
                             "%s: another process (pid %ld) is writing %s (lock %s); try again "
                             "when it has finished",
                             path, pid, what, file);
    }
    char text[96];
    int len = snprintf(text, sizeof text, "%ld %.60s\n", (long)getpid(), command);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return sgs_error_set(err, SGS_ECANTCREAT, "%s: cannot write the lock file: %s", file,
                             strerror(e));
    }
    lock->fd = fd;
    return SGS_OK;
}

int sgs_output_lock_held(const sgs_output_lock_t *lock)
{
    return lock->fd >= 0;
}

void sgs_output_lock_release(sgs_output_lock_t *lock)
{
    if (lock && lock->fd >= 0) {
        close(lock->fd); /* releases the lock */
        lock->fd = -1;
    }
}
