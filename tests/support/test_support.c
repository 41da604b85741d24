/*
 * tests/support/test_support.c — see test_support.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/support/test_support.h"

#include "io/h5_columns.h"
#include "kernels/optimizer.h"

#include <cjson/cJSON.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sgs_test_tmpdir(const char *tag, char *out, size_t out_size)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, out_size, "%s/sgs-%s-XXXXXX", base, tag);
    sgs_assert_cmp(n, >, 0);
    sgs_assert_cmp((size_t)n, <, out_size);
    if (!mkdtemp(out))
        fail_msg("mkdtemp(%s) failed", out);
}

pid_t sgs_test_start_paused(const char *args, const char *point, const char *log)
{
    char cmd[8192];
    unlink(log);
    int n = snprintf(cmd, sizeof cmd, "exec '%s' %s 2>'%s' >/dev/null", SGS_TEST_BINARY, args, log);
    sgs_assert_cmp(n, >, 0);
    sgs_assert_cmp((size_t)n, <, sizeof cmd);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        setenv("SGS_TEST_PAUSE_AT", point, 1);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    char want[128];
    snprintf(want, sizeof want, "paused at %s ", point);
    for (int i = 0; i < 6000; i++) {
        char *text = sgs_test_read_file(log, NULL);
        int paused = text && strstr(text, want);
        free(text);
        if (paused)
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            text = sgs_test_read_file(log, NULL);
            fail_msg("`segscore %s` ended (status %d) before pausing at %s: %s", args, status,
                     point, text ? text : "");
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("`segscore %s` never paused at %s", args, point);
    return -1;
}

int sgs_test_signal_and_wait(pid_t pid, int sig)
{
    assert_int_equal(kill(pid, sig), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void sgs_test_rmdir(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", path);
}

int sgs_test_run(const char *args, char *output, size_t output_size)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s", SGS_TEST_BINARY, args);
    return sgs_test_shell(cmd, output, output_size);
}

int sgs_test_shell(const char *cmd, char *output, size_t output_size)
{
    char line[8192];
    snprintf(line, sizeof line, "%s 2>&1", cmd);
    FILE *p = popen(line, "r");
    assert_non_null(p);
    size_t used = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (output && used + 1 < output_size) {
            size_t take = got < output_size - 1 - used ? got : output_size - 1 - used;
            memcpy(output + used, buf, take);
            used += take;
        }
    }
    if (output && output_size)
        output[used] = '\0';
    int status = pclose(p);
    if (WIFSIGNALED(status))
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int sgs_test_run_limited(const sgs_test_limits_t *limits, const char *args, char *output,
                         size_t output_size)
{
    char log_path[] = "/tmp/sgs-run-limited-XXXXXX";
    int log = mkstemp(log_path);
    sgs_assert_cmp(log, >=, 0);
    unlink(log_path);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "exec '%s' %s", SGS_TEST_BINARY, args);
    pid_t pid = fork();
    sgs_assert_cmp(pid, >=, 0);
    if (pid == 0) {
        /* The child: its own process group (so that a hang is killed whole), output to the
         * log, the limits, then the shell, which execs the program in its place. */
        setpgid(0, 0);
        dup2(log, 1);
        dup2(log, 2);
        if (limits->env) {
            char name[256];
            snprintf(name, sizeof name, "%s", limits->env);
            char *eq = strchr(name, '=');
            if (!eq)
                _exit(125);
            *eq = '\0';
            setenv(name, eq + 1, 1);
        }
        if (limits->file_size_bytes) {
            signal(SIGXFSZ, SIG_IGN); /* ignored signals survive exec */
            struct rlimit r = {limits->file_size_bytes, limits->file_size_bytes};
            if (setrlimit(RLIMIT_FSIZE, &r) != 0)
                _exit(125);
        }
        if (limits->address_space_bytes) {
            struct rlimit r = {limits->address_space_bytes, limits->address_space_bytes};
            if (setrlimit(RLIMIT_AS, &r) != 0)
                _exit(125);
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int timeout_ms = (limits->timeout_s > 0 ? limits->timeout_s : 120) * 1000, status = 0;
    pid_t done = 0;
    for (int waited_ms = 0; (done = waitpid(pid, &status, WNOHANG)) == 0; waited_ms += 10) {
        if (waited_ms >= timeout_ms) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ten_ms = {0, 10 * 1000 * 1000};
        nanosleep(&ten_ms, NULL);
    }
    if (output && output_size) {
        ssize_t got = pread(log, output, output_size - 1, 0);
        output[got > 0 ? (size_t)got : 0] = '\0';
    }
    close(log);
    if (done == 0)
        return -2;
    if (WIFSIGNALED(status))
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void sgs_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    size_t len = strlen(text);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

char *sgs_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, used = 0, got;
    char *data = malloc(cap + 1);
    assert_non_null(data);
    while ((got = fread(data + used, 1, cap - used, f)) > 0) {
        used += got;
        if (used == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            assert_non_null(data);
        }
    }
    fclose(f);
    data[used] = '\0';
    if (size)
        *size = used;
    return data;
}

int sgs_test_files_equal(const char *a, const char *b)
{
    size_t na, nb;
    char *da = sgs_test_read_file(a, &na);
    char *db = sgs_test_read_file(b, &nb);
    int equal = da && db && na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return equal;
}

/* The state folder of one output set: lock, current and at most two generations. */
static void assert_clean_state(const char *state)
{
    DIR *d = opendir(state);
    if (!d)
        fail_msg("cannot list %s", state);
    char current[64] = "", path[1100];
    if (snprintf(path, sizeof path, "%s/current", state) >= (int)sizeof path)
        fail_msg("path too long: %s", state);
    ssize_t len = readlink(path, current, sizeof current - 1);
    current[len > 0 ? len : 0] = '\0';
    int n_gen = 0, current_found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "lock") == 0 ||
            strcmp(name, "current") == 0)
            continue;
        if (strncmp(name, "gen-", 4) != 0) {
            closedir(d);
            fail_msg("%s: %s left behind", state, name);
        }
        n_gen++;
        current_found |= strcmp(name, current) == 0;
    }
    closedir(d);
    if (n_gen > 2 || (current[0] && !current_found))
        fail_msg("%s: %d generations, current \"%s\"%s", state, n_gen, current,
                 current[0] && !current_found ? " missing" : "");
}

void sgs_test_assert_no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot list %s", dir);
    struct dirent *e;
    char states[8][1024];
    int n_states = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strstr(e->d_name, ".tmp-") || strstr(e->d_name, ".tmp")) {
            closedir(d);
            fail_msg("%s: temporary %s left behind", dir, e->d_name);
        }
        if (e->d_name[0] == '.' && len > 9 && strcmp(e->d_name + len - 9, ".segscore") == 0 &&
            n_states < 8 &&
            snprintf(states[n_states], sizeof states[0], "%s/%s", dir, e->d_name) <
                (int)sizeof states[0])
            n_states++;
    }
    closedir(d);
    for (int i = 0; i < n_states; i++)
        assert_clean_state(states[i]);
}

/* Add every entry under `path` (`rel` its name relative to the snapshot's folder). */
static void snapshot_take(sgs_test_snapshot_t *s, const char *path, const char *rel)
{
    DIR *d = opendir(path);
    if (!d)
        fail_msg("cannot list %s", path);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t plen = strlen(path);
        int in_state = plen > 9 && strcmp(path + plen - 9, ".segscore") == 0;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (in_state && !strcmp(e->d_name, "lock")))
            continue;
        char full[1024], name[600];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        sgs_assert_cmp(strlen(name), <, sizeof s->name[0]);
        struct stat st;
        assert_int_equal(lstat(full, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            snapshot_take(s, full, name);
            continue;
        }
        if (s->n >= SGS_TEST_SNAPSHOT_MAX)
            fail_msg("%s: more than %d entries to compare", path, SGS_TEST_SNAPSHOT_MAX);
        size_t k = s->n++;
        memcpy(s->name[k], name, strlen(name) + 1); /* length checked above */
        if (S_ISLNK(st.st_mode)) {
            char target[600] = "-> ";
            ssize_t len = readlink(full, target + 3, sizeof target - 4);
            if (len < 0)
                fail_msg("readlink %s: %s", full, strerror(errno));
            target[3 + len] = '\0';
            s->data[k] = strdup(target);
            s->size[k] = strlen(target);
        } else {
            s->data[k] = sgs_test_read_file(full, &s->size[k]);
        }
        assert_non_null(s->data[k]);
    }
    closedir(d);
}

void sgs_test_snapshot(const char *dir, sgs_test_snapshot_t *s)
{
    memset(s, 0, sizeof *s);
    snapshot_take(s, dir, "");
    /* names and their data sorted together: an insertion sort on the entries */
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && strcmp(s->name[j - 1], s->name[j]) > 0; j--) {
            char tmp[sizeof s->name[0]];
            memcpy(tmp, s->name[j], sizeof tmp);
            memcpy(s->name[j], s->name[j - 1], sizeof tmp);
            memcpy(s->name[j - 1], tmp, sizeof tmp);
            char *p = s->data[j];
            s->data[j] = s->data[j - 1];
            s->data[j - 1] = p;
            size_t z = s->size[j];
            s->size[j] = s->size[j - 1];
            s->size[j - 1] = z;
        }
}

void sgs_test_snapshot_free(sgs_test_snapshot_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->data[i]);
    s->n = 0;
}

void sgs_test_assert_snapshot_unchanged(const char *dir, const sgs_test_snapshot_t *before)
{
    sgs_test_assert_no_leftovers(dir);
    sgs_test_snapshot_t *now = malloc(sizeof *now);
    assert_non_null(now);
    sgs_test_snapshot(dir, now);
    for (size_t i = 0; i < now->n || i < before->n; i++) {
        if (i >= now->n || i >= before->n || strcmp(now->name[i], before->name[i]) != 0)
            fail_msg("%s changed: entry %zu is \"%s\", was \"%s\"", dir, i,
                     i < now->n ? now->name[i] : "(none)",
                     i < before->n ? before->name[i] : "(none)");
        if (now->size[i] != before->size[i] ||
            memcmp(now->data[i], before->data[i], now->size[i]) != 0)
            fail_msg("%s/%s changed (%zu bytes, was %zu)", dir, now->name[i], now->size[i],
                     before->size[i]);
    }
    sgs_test_snapshot_free(now);
    free(now);
}

void sgs_test_patch_once(const char *path, const void *find, const void *repl, size_t n)
{
    size_t size = 0;
    unsigned char *b = (unsigned char *)sgs_test_read_file(path, &size);
    if (!b)
        fail_msg("cannot read %s", path);
    size_t hits = 0, at = 0;
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(b + i, find, n) == 0)
            hits++, at = i;
    if (hits != 1)
        fail_msg("%s: the bytes to patch occur %zu times, expected once", path, hits);
    memcpy(b + at, repl, n);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    free(b);
}

int sgs_test_shared_data(const char *relative, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", SGS_SHARED_DATA_DIR, relative);
    struct stat st;
    return stat(out, &st) == 0;
}

void sgs__assert_close(double got, double expected, double tol_abs, double tol_rel,
                       const char *expr, const char *file, int line)
{
    double tol = tol_abs + tol_rel * fabs(expected);
    if (!(fabs(got - expected) <= tol)) {
        print_error("%s:%d: %s: expected %.17g, got %.17g (difference %.3g, tolerance %.3g)\n",
                    file, line, expr, expected, got, got - expected, tol);
        _fail(file, line);
    }
}

void sgs_test_read_transactions(const char *path, sgs_test_transactions_t *t)
{
    sgs_h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        fail_msg("%s: cannot open as HDF5", path);
    size_t n_time, n_amount;
    assert_int_equal(sgs_h5_read_column(f, "/transactions/customer_id", SGS_H5_I64,
                                        (void **)&t->customer_id, &t->n, NULL),
                     SGS_OK);
    assert_int_equal(
        sgs_h5_read_column(f, "/transactions/time", SGS_H5_I64, (void **)&t->time_s, &n_time, NULL),
        SGS_OK);
    assert_int_equal(sgs_h5_read_column(f, "/transactions/amount", SGS_H5_F64, (void **)&t->amount,
                                        &n_amount, NULL),
                     SGS_OK);
    H5Fclose(f);
    assert_int_equal(n_time, t->n);
    assert_int_equal(n_amount, t->n);
}

void sgs_test_free_transactions(sgs_test_transactions_t *t)
{
    sgs_free(t->customer_id);
    sgs_free(t->time_s);
    sgs_free(t->amount);
    *t = (sgs_test_transactions_t){0};
}

void *sgs_test_column(hid_t file, const char *path, sgs_h5_type_t type, size_t *n)
{
    void *data = NULL;
    sgs_error_t err = {0};
    if (sgs_h5_read_column(file, path, type, &data, n, &err) != SGS_OK)
        fail_msg("%s", err.message);
    return data;
}

void sgs__fail_cmp(const char *a, const char *op, const char *b, long double va, long double vb,
                   const char *file, int line)
{
    print_error("%s:%d: expected %s %s %s, got %.21Lg against %.21Lg\n", file, line, a, op, b, va,
                vb);
    _fail(file, line);
}

void sgs__assert_nan(double x, const char *expr, const char *file, int line)
{
    if (!isnan(x)) {
        print_error("%s:%d: expected %s to be NaN, got %.17g\n", file, line, expr, x);
        _fail(file, line);
    }
}

int sgs_test_files_differ(const char *a, const char *b, char *why, size_t size)
{
    size_t na = 0, nb = 0;
    char *da = sgs_test_read_file(a, &na);
    char *db = sgs_test_read_file(b, &nb);
    size_t at = 0;
    while (da && db && at < na && at < nb && da[at] == db[at])
        at++;
    int equal = da && db && na == nb && at == na;
    if (!da || !db)
        snprintf(why, size, "cannot read %s", !da ? a : b);
    else if (!equal)
        snprintf(why, size, "%zu and %zu bytes, differ from byte %zu on", na, nb, at);
    free(da);
    free(db);
    return !equal;
}

void sgs__assert_files_equal(const char *a, const char *b, const char *file, int line)
{
    char why[128];
    if (!sgs_test_files_differ(a, b, why, sizeof why))
        return;
    print_error("%s:%d: %s and %s: %s\n", file, line, a, b, why);
    _fail(file, line);
}

void sgs__assert_contains(const char *text, const char *part, int want, const char *expr,
                          const char *file, int line)
{
    if (!text) {
        print_error("%s:%d: %s is NULL, expected a text %s \"%s\"\n", file, line, expr,
                    want ? "holding" : "without", part);
        _fail(file, line);
    }
    const char *at = strstr(text, part);
    if (want && !at) {
        print_error("%s:%d: expected \"%s\" in %s:\n%s\n", file, line, part, expr, text);
        _fail(file, line);
    }
    if (!want && at) {
        /* The text around the occurrence: up to 200 bytes before and after it. */
        size_t offset = (size_t)(at - text), before = offset < 200 ? offset : 200;
        size_t len = strlen(part), after = 0;
        while (after < 200 && at[len + after])
            after++;
        print_error("%s:%d: expected no \"%s\" in %s, found at byte %zu:\n%s%.*s%s\n", file, line,
                    part, expr, offset, before < offset ? "..." : "", (int)(before + len + after),
                    at - before, at[len + after] ? "..." : "");
        _fail(file, line);
    }
}

void sgs__assert_finite(double x, const char *expr, const char *file, int line)
{
    if (!isfinite(x)) {
        print_error("%s:%d: expected %s to be finite, got %.17g\n", file, line, expr, x);
        _fail(file, line);
    }
}

/* Fail after printing "file:line: <head><item as JSON>", or that the item is missing. */
static void fail_with_json(const char *file, int line, const char *head, const cJSON *item)
{
    char *printed = item ? cJSON_PrintUnformatted(item) : NULL;
    print_error("%s:%d: %s%s\n", file, line, head,
                !item     ? "no item (NULL)"
                : printed ? printed
                          : "(an item that cannot be printed)");
    free(printed);
    _fail(file, line);
}

void sgs__assert_json(int (*pred)(const cJSON *), const char *pred_name, const cJSON *item,
                      const char *expr, const char *file, int line)
{
    if (pred(item))
        return;
    char head[512];
    snprintf(head, sizeof head, "expected %s(%s), got ", pred_name, expr);
    fail_with_json(file, line, head, item);
}

void sgs__fail_json(const char *why, const cJSON *item, const char *file, int line)
{
    char head[512];
    snprintf(head, sizeof head, "%s: ", why);
    fail_with_json(file, line, head, item);
}

void sgs__fail_fit(const sgs_fit_t *fit, const char *cond, const char *file, int line)
{
    print_error("%s:%d: expected %s; the fit: %s after %d iterations (kept start %d, %d starts "
                "run), gradient %.3g, objective %.17g, log-likelihood %.17g, hessian_ok %d\n",
                file, line, cond, sgs_optim_status_name(fit->status), fit->iterations,
                fit->start_index, fit->n_starts_run, fit->grad_norm, fit->objective,
                fit->log_likelihood, fit->hessian_ok);
    for (int j = 0; j < fit->n_params && j < SGS_OPTIM_MAX_PARAMS; j++)
        print_error("  params[%d] = %.17g (SE %.3g)\n", j, fit->params[j], fit->std_err[j]);
    _fail(file, line);
}

struct cJSON *sgs_test_read_json(const char *path)
{
    char *text = sgs_test_read_file(path, NULL);
    if (!text)
        fail_msg("%s: cannot read", path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        fail_msg("%s: not JSON", path);
    return j;
}

long sgs_test_find_id(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (long)lo : -1;
}

const char *sgs_test_python(const char *modules, const char *install)
{
    const char *python = getenv("SGS_TEST_PYTHON");
    if (!python || !python[0])
        python = "/usr/bin/python3";
    char cmd[600], out[2048];
    snprintf(cmd, sizeof cmd, "'%s' -B -c 'import %s'", python, modules);
    int status = sgs_test_shell(cmd, out, sizeof out);
    if (status == 0)
        return python;
    printf("skipped: %s cannot import %s (%s): exit %d %s\n", python, modules, install, status,
           out);
    return NULL;
}
