/*
 * engine/exit_status.h — what an error code means to whoever ran the command-line program:
 * its exit status, in the style of sysexits.h (README "Errors and exit status"). The codes
 * themselves are the library's (kernels/core.h); only the program has exit statuses.
 */
#ifndef SGS_EXIT_STATUS_H
#define SGS_EXIT_STATUS_H

/* Exit status for an error code: 0 for SGS_OK; 64 usage, 65 bad data (also a size overflow,
 * a fit that did not converge, a result that is not a finite number), 66 input missing,
 * 70 internal (SGS_EINVAL and codes not in the table), 71 out of memory, 73 output location
 * unusable, 74 I/O error and no space left, 75 retry later, 78 bad configuration, 130 stopped
 * by a signal (the caught signal's own 128 + n comes from engine/interrupt.h). */
int sgs_exit_status(int code);

#endif /* SGS_EXIT_STATUS_H */
