/*
 * io/suggest.h — "did you mean" for a name that is not known: the edit distance behind the
 * suggestions of the readers (a misspelled dataset or column) and of the configuration (a
 * misspelled key, engine/config_keys.c). Text, not numbers, so not in kernels/; io/ is the lowest
 * layer that suggests, and engine/ uses it from here.
 */
#ifndef SGS_SUGGEST_H
#define SGS_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between a[0..na) and b[0..nb): the fewest insertions, deletions and
 * substitutions of one character that turn one into the other. ASCII letters compare without
 * case when ignore_case. Strings longer than 64 characters get SIZE_MAX (never the closest).
 * Pure; no allocation. */
size_t sgs_edit_distance(const char *a, size_t na, const char *b, size_t nb, int ignore_case);

#endif /* SGS_SUGGEST_H */
