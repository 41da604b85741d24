/*
 * engine/dist_publish.h — the outputs of a run spread over processes, published together
 * (docs/mpi.md, docs/publishing.md): readers see the previous complete set or the new one,
 * never a part, whichever process fails or is killed.
 *
 * Process 0 alone holds the set (io/publish.h): it takes the lock, removes what a stopped run
 * left, and makes the new generation's folder; every process learns where each output of
 * that generation is to be written and writes its part there (collective HDF5, text files at
 * offsets: engine/dist_text.h). The commit agrees on every process's outcome first; only
 * when all succeeded does every process flush the files (each its own writes: on a cluster
 * they may sit in its node's cache) and process 0 make the new set visible with the one
 * rename of io/publish.h. A failure anywhere leaves the previous set as it was, and closing
 * removes the unfinished generation; a killed process leaves it behind for the next run's
 * open to remove.
 *
 *   sgs_dist_publish_t *p;
 *   sgs_dist_publish_open(d, outputs, n, "run", &p, &err);  // collective
 *   ... every process writes its part of sgs_dist_publish_file(p, i) ...
 *   sgs_dist_publish_commit(p, rc, &err);                   // collective: all or nothing
 *   sgs_dist_publish_close(p);                              // collective
 */
#ifndef SGS_DIST_PUBLISH_H
#define SGS_DIST_PUBLISH_H

#include "engine/dist.h"
#include "io/publish.h"

typedef struct sgs_dist_publish sgs_dist_publish_t;

/* Process 0 opens the set and begins a new generation (sgs_publish_open, sgs_publish_begin);
 * every process then knows each output's file in it. @return 0 with *out owned by the caller
 * (sgs_dist_publish_close), or the first failure (the lowest process's: process 0's codes of
 * sgs_publish_open and sgs_publish_begin, SGS_ENOMEM), the same on every process, *out NULL. */
int sgs_dist_publish_open(const sgs_dist_t *d, const sgs_publish_output_t *outputs, size_t n,
                          const char *command, sgs_dist_publish_t **out, sgs_error_t *err);

/* Where output i of the new generation is written, on every process. */
const char *sgs_dist_publish_file(const sgs_dist_publish_t *p, size_t i);

/* The public path of output i (io/publish.h sgs_publish_path) on process 0; NULL on the
 * others. */
const char *sgs_dist_publish_path(const sgs_dist_publish_t *p, size_t i);

/* How many temporary files or folders a stopped run had left (a killed job's unfinished
 * generation among them) that process 0's open removed (io/publish.h
 * sgs_publish_stale_removed); 0 on the other processes. Not collective. */
size_t sgs_dist_publish_stale_removed(const sgs_dist_publish_t *p);

/* Publish the new generation when every process's rc is 0: each process flushes every
 * output, then process 0 seals the generation and switches to it. Every process calls it
 * with its outcome, a failure too, once it has stopped writing (so that no process still
 * writes when process 0 removes the files). Every output must exist by then (a run writes
 * them all); each process flushes each of them, for the parts it wrote may sit in its own
 * node's cache. @return 0 when the new set is visible; else the
 * first failure (the lowest process's own rc and message, or a flush or the switch that
 * failed), the same on every process, the previous set untouched. */
int sgs_dist_publish_commit(sgs_dist_publish_t *p, int rc, sgs_error_t *err);

/* Release the set: process 0 prunes old generations after a commit, or removes the
 * unfinished one, and releases the lock. NULL is allowed. */
void sgs_dist_publish_close(sgs_dist_publish_t *p);

#endif /* SGS_DIST_PUBLISH_H */
