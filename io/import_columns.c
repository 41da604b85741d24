/*
 * io/import_columns.c — which columns of the file the options name: header names (any case),
 * 1-based positions, alternatives "A|B", products "Quantity*UnitPrice" (import_columns_internal.h).
 */
#include "io/import_columns_internal.h"
#include "io/import_text_internal.h"
#include "io/suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when the reference is a 1-based position (digits only). */
static int is_position(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t k = 0; k < len; k++)
        if (!is_digit(s[k]))
            return 0;
    return 1;
}

/* True when any alternative of `spec` (split at '|' and '*') is a name. */
int sgs__import_spec_has_names(const char *spec)
{
    const char *s = spec;
    while (1) {
        size_t len = strcspn(s, "|*");
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        if (!is_position(t, tl))
            return 1;
        if (!s[len])
            return 0;
        s += len + 1;
    }
}

/* Find one alternative (no '|', no '*') in the header; returns 1 and *index when found. */
static int find_one(const header_view_t *h, const char *ref, size_t len, size_t *index)
{
    if (h->names) {
        for (size_t k = 0; k < h->n_fields; k++)
            if (h->length[k] == len && memcmp(h->names[k], ref, len) == 0) {
                *index = k;
                return 1;
            }
        for (size_t k = 0; k < h->n_fields; k++) {
            const char *name = h->names[k];
            size_t nl = h->length[k];
            trim(&name, &nl);
            if (equal_nocase(name, nl, ref, len)) {
                *index = k;
                return 1;
            }
        }
    }
    if (is_position(ref, len) && len < 10) {
        size_t p = (size_t)strtoul(ref, NULL, 10);
        if (p >= 1 && p <= h->n_fields) {
            *index = p - 1;
            return 1;
        }
    }
    return 0;
}

/* Explain why `factor` (alternatives separated by '|') matched nothing. */
static int not_found(const header_view_t *h, const char *option, const char *factor,
                     const char *file, sgs_error_t *err)
{
    char first[128];
    size_t fl = strcspn(factor, "|");
    snprintf(first, sizeof first, "%.*s", (int)(fl < 100 ? fl : 100), factor);
    if (!sgs__import_spec_has_names(factor) || !h->names) {
        const char *hint = "";
        if (h->n_fields == 1 && h->names && strcspn(h->names[0], " \t;|") < h->length[0])
            hint = " (is the file whitespace-separated or ';'-delimited? see --format and "
                   "--delimiter)";
        if (!h->names && sgs__import_spec_has_names(factor))
            return sgs_error_set(err, SGS_EDATA,
                                 "%s \"%s\": the file %s has no header line to find names in; "
                                 "give 1-based column positions (1..%zu), or --header",
                                 option, factor, file, h->n_fields);
        return sgs_error_set(err, SGS_EDATA, "%s %s: %s has only %zu column%s%s", option, factor,
                             file, h->n_fields, h->n_fields == 1 ? "" : "s", hint);
    }
    /* list the columns, and the closest name to the first alternative */
    char list[400];
    size_t used = 0, best_k = 0, best_d = (size_t)-1;
    list[0] = '\0';
    for (size_t k = 0; k < h->n_fields; k++) {
        size_t d = sgs_edit_distance(first, strlen(first), h->names[k], h->length[k], 1);
        if (d < best_d) {
            best_d = d;
            best_k = k;
        }
        if (used + 8 < sizeof list) {
            int n = snprintf(list + used, sizeof list - used, "%s\"%.*s\"", k ? ", " : "",
                             (int)(h->length[k] < 60 ? h->length[k] : 60), h->names[k]);
            if (n > 0)
                used += (size_t)n < sizeof list - used ? (size_t)n : sizeof list - used - 1;
        }
    }
    char hint[128] = "";
    if (best_d != (size_t)-1 && best_d <= 2 + strlen(first) / 3 && h->n_fields > 0)
        snprintf(hint, sizeof hint, " Did you mean \"%.*s\"?",
                 (int)(h->length[best_k] < 60 ? h->length[best_k] : 60), h->names[best_k]);
    return sgs_error_set(err, SGS_EDATA,
                         "%s \"%s\": no such column in the header of %s (columns: %s).%s", option,
                         factor, file, list, hint);
}

/* Resolve a factor with alternatives "A|B|3" to a column index. */
static int resolve_factor(const header_view_t *h, const char *option, const char *factor,
                          size_t factor_len, const char *file, size_t *index, sgs_error_t *err)
{
    char copy[256];
    if (factor_len >= sizeof copy)
        return sgs_error_set(err, SGS_EUSAGE, "%s: column reference too long", option);
    memcpy(copy, factor, factor_len);
    copy[factor_len] = '\0';
    const char *s = copy;
    while (1) {
        size_t len = strcspn(s, "|");
        const char *t = s;
        size_t tl = len;
        trim(&t, &tl);
        if (tl == 0)
            return sgs_error_set(err, SGS_EUSAGE, "%s \"%s\": empty column reference", option,
                                 copy);
        if (find_one(h, t, tl, index))
            return SGS_OK;
        if (!s[len])
            break;
        s += len + 1;
    }
    return not_found(h, option, copy, file, err);
}

int sgs__import_resolve_ref(const header_view_t *h, const char *option, const char *spec,
                            int allow_product, const char *file, column_ref_t *ref,
                            sgs_error_t *err)
{
    memset(ref, 0, sizeof *ref);
    if (!spec)
        return SGS_OK;
    ref->present = 1;
    ref->n_factors = 1;
    size_t len = strlen(spec);
    /* a header name containing '*' wins over the product reading */
    if (h->names && find_one(h, spec, len, &ref->index[0]) && !is_position(spec, len))
        return SGS_OK;
    const char *star = allow_product ? strchr(spec, '*') : NULL;
    if (!star)
        return resolve_factor(h, option, spec, len, file, &ref->index[0], err);
    if (strchr(star + 1, '*'))
        return sgs_error_set(err, SGS_EUSAGE, "%s \"%s\": at most two columns can be multiplied",
                             option, spec);
    ref->n_factors = 2;
    int rc = resolve_factor(h, option, spec, (size_t)(star - spec), file, &ref->index[0], err);
    if (rc == SGS_OK)
        rc = resolve_factor(h, option, star + 1, strlen(star + 1), file, &ref->index[1], err);
    return rc;
}

/* Append "name = column N "Header"" to the mapping description. */
void sgs__import_describe_ref(char *buf, size_t size, const char *name, const column_ref_t *ref,
                              const header_view_t *h)
{
    if (!ref->present)
        return;
    size_t used = strlen(buf);
    int n = snprintf(buf + used, size - used, "%s%s =", used ? "; " : "", name);
    for (int f = 0; f < ref->n_factors && n > 0; f++) {
        used = strlen(buf);
        size_t k = ref->index[f];
        if (h->names)
            n = snprintf(buf + used, size - used, "%s column %zu \"%.*s\"", f ? " *" : "", k + 1,
                         (int)(h->length[k] < 40 ? h->length[k] : 40), h->names[k]);
        else
            n = snprintf(buf + used, size - used, "%s column %zu", f ? " *" : "", k + 1);
    }
}
