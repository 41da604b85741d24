/*
 * io/publish.h — publish a set of output files together: readers see yesterday's complete
 * set or today's, never a mix, whatever fails or is killed and whenever (docs/publishing.md).
 *
 * Every output path is a symlink to <state>/current/<name>, and `current` is a symlink to a
 * generation folder <state>/gen-<n>. A new set is written into a new generation folder,
 * flushed, and made visible by one rename(2) of a new `current` symlink over the old one.
 * The state folder is `.<name of the first output>.segscore` beside the first output; it
 * also holds the lock of the set. Outputs may be in different folders (and file systems).
 *
 *   sgs_publish_t *p;
 *   sgs_publish_open(outputs, n, "run", &p, &err);  // state folder, lock (75), cleanup
 *   sgs_publish_begin(p, &err);               // plain files at the paths adopted; gen-<n>
 *   for each output i: write sgs_publish_file(p, i), then sgs_publish_flush(p, i, &err);
 *   sgs_publish_seal(p, &err);                // the generation folder flushed
 *   sgs_publish_switch(p, &err);              // the one rename: the new set is visible
 *   sgs_publish_prune(p);                     // generations older than the previous removed
 *   sgs_publish_close(p);                     // not switched: gen-<n> removed; lock released
 *
 * Nothing here is thread-safe; one sgs_publish_t per output set and process.
 */
#ifndef SGS_PUBLISH_H
#define SGS_PUBLISH_H

#include "kernels/core.h"

#include <stddef.h>

#define SGS_PUBLISH_MAX_OUTPUTS 16

/* One output of the set. */
typedef struct sgs_publish_output {
    const char *path; /* where readers open it; becomes a symlink into the state folder */
    const char *name; /* its file name inside a generation: unique in the set, no '/' */
} sgs_publish_output_t;

typedef struct sgs_publish sgs_publish_t;

/* Create the state folder beside outputs[0].path if needed, take the set's lock (the lock of
 * outputs[0].path, io/output_lock.h: an fcntl write lock on <state>/lock, which then holds this
 * process's pid and `command`), and remove what a stopped run of this set left: generation
 * folders other than the current and the previous one, a half-made `current`, and hidden
 * temporaries ".<output name>.tmp-*" beside each output (io/stale_temporaries.h). The paths
 * are copied; they must have passed io/output_paths.h's checks.
 * @return 0 with *out owned by the caller (sgs_publish_close); SGS_ETEMPFAIL when another
 * process holds the lock (the message names its pid); SGS_ECANTCREAT when the state folder
 * cannot be made or locked; SGS_EINVAL for more than SGS_PUBLISH_MAX_OUTPUTS outputs or a
 * bad name; SGS_ENOMEM. */
int sgs_publish_open(const sgs_publish_output_t *outputs, size_t n, const char *command,
                     sgs_publish_t **out, sgs_error_t *err);

/* Temporaries and generations of stopped runs that sgs_publish_open removed. */
size_t sgs_publish_stale_removed(const sgs_publish_t *p);

/* Make every output path a symlink into the state folder without changing what a reader
 * sees: plain files found there (the first run of this design, or a path someone replaced)
 * are first linked (or copied, across file systems) into a generation of their own, which
 * becomes current; then each path is replaced by its symlink with one rename. Then create
 * the folder of the new generation. @return 0; SGS_EIO naming the path that failed. */
int sgs_publish_begin(sgs_publish_t *p, sgs_error_t *err);

/* Where output i of the new generation is to be written (after sgs_publish_begin). */
const char *sgs_publish_file(const sgs_publish_t *p, size_t i);

/* The output path of output i, as given to sgs_publish_open. */
const char *sgs_publish_path(const sgs_publish_t *p, size_t i);

/* Flush output i of the new generation to disk. @return 0; SGS_EIO naming the output. */
int sgs_publish_flush(sgs_publish_t *p, size_t i, sgs_error_t *err);

/* Flush the new generation's folder (every output written and flushed before).
 * @return 0; SGS_EIO. */
int sgs_publish_seal(sgs_publish_t *p, sgs_error_t *err);

/* Point `current` at the new generation with one rename(2): from here on every output path
 * shows the new set. @return 0; SGS_EIO when the rename fails (the old set stays). */
int sgs_publish_switch(sgs_publish_t *p, sgs_error_t *err);

/* After the switch: remove generations other than the current and the previous one (a
 * reader that resolved `current` just before the switch still finds its files). Best
 * effort: what cannot be removed now is removed by the next run. */
void sgs_publish_prune(sgs_publish_t *p);

/* Release the lock and free p; when the new generation was not switched to, remove it
 * first. NULL is allowed. */
void sgs_publish_close(sgs_publish_t *p);

#endif
