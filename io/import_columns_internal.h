/*
 * io/import_columns_internal.h — which columns of a delimited file the import's options name
 * (internal to io/): a header name (any case), a 1-based position, alternatives "A|B|3"
 * (the first that exists), or for the amount the product of two ("Quantity*UnitPrice").
 */
#ifndef SGS_IMPORT_COLUMNS_H
#define SGS_IMPORT_COLUMNS_H

#include "kernels/core.h"

#include <stddef.h>

/* What the header looks like when column names are resolved. */
typedef struct header_view {
    char *const *names; /* NULL when the file has no header */
    const size_t *length;
    size_t n_fields; /* fields of the header, or of the first data row */
} header_view_t;

/* A resolved column reference: one column, or the product of two. */
typedef struct column_ref {
    int present;
    size_t index[2];
    int n_factors; /* 1 or 2 */
} column_ref_t;

/* True when any alternative of `spec` (split at '|' and '*') is a name. */
int sgs__import_spec_has_names(const char *spec);

/* Resolve the reference `spec` of option `option` against the header `h` (products allowed
 * when allow_product): SGS_EDATA naming the option, the reference, `file` and the columns
 * there are when it names none; SGS_EUSAGE for a malformed reference. */
int sgs__import_resolve_ref(const header_view_t *h, const char *option, const char *spec,
                            int allow_product, const char *file, column_ref_t *ref,
                            sgs_error_t *err);

/* Append "name = column N "Header"" to the mapping description in buf. */
void sgs__import_describe_ref(char *buf, size_t size, const char *name, const column_ref_t *ref,
                              const header_view_t *h);

#endif
