/*
 * io/output_paths.h — may a command write this path, and is it a file the command also reads,
 * or writes under another name? Every command asks before any work: a run never replaces its
 * own input (a results file, a CSV or a summary written over the input, or over each other),
 * and a path it cannot use is refused at the start, not when the outputs are published.
 *
 *   sgs_named_path_t in[] = {{"input", input_path}};
 *   sgs_named_path_t out[] = {{"results", results_path}, {"output.report", report_path}};
 *   rc = sgs_output_paths_check(in, 1, out, 2, &err);   // 0, 64 or 73 with both paths named
 */
#ifndef SGS_OUTPUT_PATHS_H
#define SGS_OUTPUT_PATHS_H

#include "kernels/core.h"

#include <stddef.h>

/* A path and what it is, for messages ("input", "output.customers_csv"). */
typedef struct sgs_named_path {
    const char *what;
    const char *path;
} sgs_named_path_t;

/* Whether `path` can be written as an output file: it is not empty (SGS_EUSAGE); it does not
 * end in '/', and when it exists it is a regular file (not a folder, nor a device such as
 * /dev/null, which an output would replace); its folder exists and may be written to
 * (SGS_ECANTCREAT, naming the folder). `what` names the output in the message. Nothing is
 * created. @return 0 or the code above. */
int sgs_output_path_check(const char *what, const char *path, sgs_error_t *err);

/* 1 when a and b name the same file: when both exist, the same st_dev and st_ino (symlinks
 * followed, so a symlink or a hard link to the file is the file); when neither exists, the
 * same real path of the parent folder and the same name; else 0. */
int sgs_same_file(const char *a, const char *b);

/* Check each output with sgs_output_path_check, then against every input and every other
 * output with sgs_same_file. Inputs that are NULL, "" or "-" (standard input) are skipped, as
 * are inputs that do not exist (their reader reports them). @return 0; SGS_EUSAGE naming both
 * paths when two are the same file; the codes of sgs_output_path_check. */
int sgs_output_paths_check(const sgs_named_path_t *inputs, size_t n_inputs,
                           const sgs_named_path_t *outputs, size_t n_outputs, sgs_error_t *err);

#endif
