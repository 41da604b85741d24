/*
 * io/stale_temporaries.h — remove the temporaries that a killed writer of an output left
 * beside it. Files are written aside under a hidden name ".<name>.tmp-XXXXXX"
 * (io/atomic_file.h; io/publish.c's ".<name>.tmp-link") and renamed over the output when
 * complete; a writer killed before the rename (kill -9, a power cut, a second signal) leaves
 * its temporary, which nothing else would ever remove.
 *
 * Only the holder of the output's lock (io/output_lock.h) may sweep: the lock says that no
 * live process is writing this output, so every temporary of it is stale.
 */
#ifndef SGS_STALE_TEMPORARIES_H
#define SGS_STALE_TEMPORARIES_H

#include <stddef.h>

/* Remove every ".<name>.tmp-*" in the folder of output `path` (files and symlinks; a folder
 * of that name is left alone), and nothing else. Best effort: what cannot be removed stays.
 * @return how many were removed. */
size_t sgs_stale_temporaries_remove(const char *path);

#endif
