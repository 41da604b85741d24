/*
 * io/h5_crash.c — fatal signals while HDF5 reads an input. See h5_crash.h.
 *
 * What the handler does is limited to what is async-signal-safe: read a thread-local
 * counter, write(2) a message built beforehand, _exit(2); or put back the previous
 * disposition and return, so that the faulting instruction runs again under it.
 */
#define _DEFAULT_SOURCE /* SA_ONSTACK, sigaltstack */

#include "io/h5_crash.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PATH_BYTES 4096
#define ALT_STACK_BYTES ((size_t)64 << 10) /* well above MINSIGSTKSZ, AVX-512 state included */

static const int fatal_signals[] = {SIGSEGV, SIGFPE, SIGBUS};
enum { N_FATAL = sizeof fatal_signals / sizeof fatal_signals[0] };

static struct sigaction previous[N_FATAL]; /* dispositions before the install */
static int installed;
static int crash_status;
static char program_name[64];

/* "<program>: error: <file>: ... (signal " built by the outermost arm; the handler appends
 * the number, ")" and a newline in the room left at the end. */
static char message[sizeof program_name + PATH_BYTES + 128];
static size_t message_len;

/* Arms of this thread not yet disarmed. */
static _Thread_local volatile sig_atomic_t depth;

static char alt_stack[ALT_STACK_BYTES];

static void on_fatal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    /* si_code > 0: raised by the processor or the kernel for this thread's own instruction
     * (SEGV_MAPERR, FPE_INTDIV, BUS_ADRERR, ...), not sent by kill(2) or raise(3) */
    if (depth > 0 && info && info->si_code > 0) {
        char digits[12];
        size_t n = 0;
        for (unsigned v = (unsigned)sig; n == 0 || v > 0; v /= 10)
            digits[n++] = (char)('0' + v % 10);
        size_t len = message_len;
        while (n > 0)
            message[len++] = digits[--n];
        message[len++] = ')';
        message[len++] = '\n';
        ssize_t ignored = write(STDERR_FILENO, message, len);
        (void)ignored; /* nothing more can be done about a failed write here */
        _exit(crash_status);
    }
    for (size_t i = 0; i < N_FATAL; i++)
        if (fatal_signals[i] == sig)
            sigaction(sig, &previous[i], NULL);
    if (!info || info->si_code <= 0)
        raise(sig); /* sent: deliver it again, now to the previous disposition */
    /* else return: the fault happens again, under the previous disposition */
}

int sgs_h5_crash_install(const char *program, int exit_status)
{
    snprintf(program_name, sizeof program_name, "%s", program);
    crash_status = exit_status;
    if (installed)
        return 0;
    /* A stack overflow inside libhdf5 can only be caught on another stack. Keep one that is
     * there already (AddressSanitizer installs its own). */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack, .ss_flags = 0};
        (void)sigaltstack(&ss, NULL); /* without one, only an overflow goes uncaught */
    }
    for (size_t i = 0; i < N_FATAL; i++)
        if (sigaction(fatal_signals[i], NULL, &previous[i]) != 0)
            return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FATAL; i++) {
        if (sigaction(fatal_signals[i], &sa, NULL) != 0) {
            int e = errno;
            while (i-- > 0)
                sigaction(fatal_signals[i], &previous[i], NULL);
            errno = e;
            return -1;
        }
    }
    installed = 1;
    return 0;
}

void sgs_h5_crash_arm(const char *path)
{
    if (depth == 0 && installed) {
        int n = snprintf(message, sizeof message - 16,
                         "%s: error: %.4095s: the HDF5 library crashed reading this file: it is "
                         "damaged (signal ",
                         program_name, path);
        message_len = n < 0 ? 0 : (size_t)n < sizeof message - 16 ? (size_t)n : sizeof message - 17;
        /* the message is complete before the handler may look at it */
        atomic_signal_fence(memory_order_seq_cst);
    }
    depth = depth + 1;
}

void sgs_h5_crash_disarm(void)
{
    if (depth > 0)
        depth = depth - 1;
}

int sgs_h5_crash_pause(void)
{
    int armed = (int)depth;
    depth = 0;
    return armed;
}

void sgs_h5_crash_resume(int armed)
{
    depth = armed > 0 ? armed : 0;
}
