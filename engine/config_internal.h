/*
 * engine/config_internal.h — the configuration key table (engine/config_keys.c) and what the
 * files of the configuration share about it: setting a key from text (engine/config_set.c)
 * and a key's value as text (engine/config_print.c). Internal to engine/config_*.c; the
 * contract is engine/config.h.
 */
#ifndef SGS_CONFIG_INTERNAL_H
#define SGS_CONFIG_INTERNAL_H

#include "engine/config.h"

#include <stddef.h>

typedef enum sgs__config_key_type {
    SGS__KEY_STRING,
    SGS__KEY_DATE,
    SGS__KEY_INT,
    SGS__KEY_U64,
    SGS__KEY_DOUBLE,
    SGS__KEY_BOOL,
    SGS__KEY_I64,  /* int64_t (the kernels' channel capacities) */
    SGS__KEY_FLAG8 /* uint8_t 0/1, written true or false (the kernels' switches) */
} sgs__config_key_type_t;

typedef struct sgs__config_key {
    const char *path; /* dotted key path */
    sgs__config_key_type_t type;
    size_t offset;       /* of the field in sgs_config_t */
    size_t size;         /* of the field (strings) */
    const char *deflt;   /* default, as text; NULL: the kernel's, which sgs_config_defaults
                            fills in (the options a kernel takes, config.h, config_actions.h) */
    const char *allowed; /* strings: "a|b|c" or NULL for free text */
    double min, max;     /* numbers: inclusive range */
    const char *doc;
} sgs__config_key_t;

/* The keys, in the order they are documented and serialized; at most SGS__CONFIG_KEYS_MAX
 * (checked where the table is: a file's reader counts the times each key is set). */
#define SGS__CONFIG_KEYS_MAX 256
extern const sgs__config_key_t sgs__config_keys[];
extern const size_t sgs__config_n_keys;

/* The key of dotted path `path`, or NULL. */
const sgs__config_key_t *sgs__config_find_key(const char *path);

/* The known key nearest to `path` by edit distance (for "did you mean"). */
const char *sgs__config_closest_key(const char *path);

/* Set key k of *cfg from its text (as --set gives it): checked against the key's type,
 * allowed words, length and range. @return 0 or SGS_ECONFIG naming the key. */
int sgs__config_set_from_text(sgs_config_t *cfg, const sgs__config_key_t *k, const char *value,
                              sgs_error_t *err);

/* The value of key k in cfg as text (strings unquoted). */
void sgs__config_value_text(const sgs_config_t *cfg, const sgs__config_key_t *k, char *buf,
                            size_t size);

#endif
