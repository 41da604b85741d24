/*
 * engine/progress.c — step timing, peak memory, terminal and log output.
 */
#include "engine/progress.h"

#include "engine/dist.h"
#include "engine/interrupt.h"

#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sgs_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* The process's CPU time so far, all threads, in user and in system mode (seconds). */
static void cpu_times(double *user, double *system)
{
    struct rusage ru;
    *user = *system = 0.0;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    *system = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

void sgs_progress_init(sgs_progress_t *p, FILE *out, int quiet)
{
    memset(p, 0, sizeof *p);
    p->out = out ? out : stderr;
    p->quiet = quiet;
    p->is_tty = isatty(fileno(p->out));
    p->run_start = now_s();
}

double sgs_progress_elapsed(const sgs_progress_t *p)
{
    return now_s() - p->run_start;
}

void sgs_progress_begin(sgs_progress_t *p, const char *step)
{
    snprintf(p->current, sizeof p->current, "%s", step);
    p->step_start = now_s();
    cpu_times(&p->step_user, &p->step_system);
    p->step_bytes = sgs_dist_bytes_sent();
    p->last_draw = 0.0;
}

void sgs_progress_update(void *ctx, const char *what, size_t done, size_t total)
{
    sgs_progress_t *p = ctx;
    if (!p || p->quiet || !p->is_tty || total == 0)
        return;
    double t = now_s();
    if (t - p->last_draw < 0.1 && done < total)
        return;
    p->last_draw = t;
    fprintf(p->out, "\r\033[Ksegscore: %s %s %5.1f%%", p->current, what ? what : "",
            100.0 * (double)done / (double)total);
    fflush(p->out);
}

sgs_step_record_t sgs_progress_so_far(const sgs_progress_t *p)
{
    double user, system;
    cpu_times(&user, &system);
    sgs_step_record_t r = {.seconds = now_s() - p->step_start,
                           .cpu_seconds = (user - p->step_user) + (system - p->step_system),
                           .system_seconds = system - p->step_system,
                           .peak_rss_mb = sgs_peak_rss_mb(),
                           .bytes_sent = sgs_dist_bytes_sent() - p->step_bytes};
    snprintf(r.name, sizeof r.name, "%s", p->current);
    return r;
}

void sgs_progress_end(sgs_progress_t *p, const char *detail_fmt, ...)
{
    double seconds = now_s() - p->step_start;
    double rss = sgs_peak_rss_mb(), user, system;
    cpu_times(&user, &system);
    if (p->n_steps < SGS_PROGRESS_MAX_STEPS) {
        sgs_step_record_t *r = &p->steps[p->n_steps++];
        snprintf(r->name, sizeof r->name, "%s", p->current);
        r->seconds = seconds;
        r->cpu_seconds = (user - p->step_user) + (system - p->step_system);
        r->system_seconds = system - p->step_system;
        r->peak_rss_mb = rss;
        r->bytes_sent = sgs_dist_bytes_sent() - p->step_bytes;
    }
    if (p->quiet)
        return;
    char detail[512];
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof detail, detail_fmt, ap);
    va_end(ap);
    fprintf(p->out, "%ssegscore: %-9s %8.3f s  peak %7.1f MiB  %s\n", p->is_tty ? "\r\033[K" : "",
            p->current, seconds, rss, detail);
    fflush(p->out);
}

void sgs_progress_note(sgs_progress_t *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(p->out, "segscore: ");
    vfprintf(p->out, fmt, ap);
    fprintf(p->out, "\n");
    va_end(ap);
}

/* ---- Model fits -------------------------------------------------------------------------- */

static void fit_progress(const sgs_optim_progress_t *p, void *ctx)
{
    sgs_fit_watch_t *w = ctx;
    sgs_progress_update(w->progress, w->what, (size_t)p->iteration,
                        (size_t)(w->max_iter > 0 ? w->max_iter : 500));
    if (p->elapsed_s >= w->next_note_s) {
        sgs_progress_note(
            w->progress, "%s: start %d, iteration %d, objective %.10g, gradient %.3g, %.0f s",
            w->what, p->start + 1, p->iteration, p->objective, p->grad_norm, p->elapsed_s);
        w->next_note_s = p->elapsed_s + 10.0;
    }
}

void sgs_fit_watch_attach(sgs_fit_watch_t *w, sgs_progress_t *p, const char *what,
                          double time_limit_s, sgs_optim_options_t *o)
{
    *w = (sgs_fit_watch_t){p, what, o->max_iter, 10.0};
    o->time_limit_s = time_limit_s;
    o->progress = fit_progress;
    o->progress_ctx = w;
    static const sgs_stop_point_t during_fit = {"fit", "during a model fit"};
    o->stop = sgs_interrupt_stop;
    o->stop_ctx = (void *)&during_fit;
}
