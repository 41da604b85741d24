/*
 * io/import_fields_internal.h — the field parsers of the CSV import besides the public ones of
 * csv_import.h (internal to io/). Each returns 0, or -1 with *reason saying why.
 */
#ifndef SGS_IMPORT_FIELDS_H
#define SGS_IMPORT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

/* A channel name (store, web, app, phone, email, sms, mail, any case) or its code 0..7. */
int sgs__import_parse_channel(const char *text, size_t len, uint8_t *code, const char **reason);

/* A category code: a whole number in int32's range. */
int sgs__import_parse_category(const char *text, size_t len, int32_t *category,
                               const char **reason);

#endif
