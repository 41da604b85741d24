/*
 * io/suggest.c — the edit distance behind "did you mean" (see suggest.h).
 */
#include "io/suggest.h"

#include <stdint.h>

static char ascii_lower(char c, int ignore_case)
{
    return ignore_case && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

size_t sgs_edit_distance(const char *a, size_t na, const char *b, size_t nb, int ignore_case)
{
    enum { MAXLEN = 64 };
    if (na > MAXLEN || nb > MAXLEN)
        return SIZE_MAX;
    size_t row[MAXLEN + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best =
                diag + (ascii_lower(a[i - 1], ignore_case) != ascii_lower(b[j - 1], ignore_case));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}
