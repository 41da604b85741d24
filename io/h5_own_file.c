/*
 * io/h5_own_file.c — opening a file segscore wrote, with its version rule
 * (io/h5_own_file.h).
 */
#include "io/h5_own_file.h"

#include "io/h5_columns.h"
#include "io/h5_guard.h"

#include <stdio.h>
#include <string.h>

int sgs_h5_own_exists(hid_t f, const char *file_name, const char *object, sgs_error_t *err)
{
    sgs_h5_refusal_t why;
    if (sgs_h5_guard_path(f, object, &why) != SGS_OK)
        return sgs_error_set(err, why.code, "%s: %s: %s", file_name, object, why.text);
    char part[256];
    for (const char *p = object + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            snprintf(part, sizeof part, "%.*s", (int)(p - object), object);
            if (H5Lexists(f, part, H5P_DEFAULT) <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return 0;
            }
            if (*p == '\0')
                return 1;
        }
    }
}

/* The version rule (header). */
static int check_version(hid_t f, const char *path, const char *kind, char *version, size_t size,
                         sgs_error_t *err)
{
    const char *command = strcmp(kind, "results") == 0 ? "run" : kind;
    if (H5Aexists_by_name(f, "/", "engine_version", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return sgs_error_set(err, SGS_EDATA,
                             "%s: /@engine_version is missing: not a segscore %s file, or one "
                             "from an engine older than 0.1.0; run segscore %s again with this "
                             "engine (%s)",
                             path, kind, command, SGS_VERSION);
    }
    int rc = sgs_h5_attr_read_string(f, "/", "engine_version", version, size, err);
    if (rc != SGS_OK) {
        sgs_error_prefix(err, "%s", path);
        return rc;
    }
    unsigned f_major, f_minor, my_major, my_minor;
    if (sscanf(version, "%u.%u", &f_major, &f_minor) != 2)
        return sgs_error_set(err, SGS_EDATA, "%s: /@engine_version \"%s\" is not a version", path,
                             version);
    if (sscanf(SGS_VERSION, "%u.%u", &my_major, &my_minor) == 2 &&
        (f_major > my_major || (f_major == my_major && f_minor > my_minor)))
        return sgs_error_set(err, SGS_EDATA,
                             "%s: written by segscore %s, newer than this engine (%s): its layout "
                             "may differ; read it with segscore %s or later",
                             path, version, SGS_VERSION, version);
    return SGS_OK;
}

int sgs_h5_open_own(const char *path, const char *kind, hid_t *f, char *version, size_t size,
                    sgs_error_t *err)
{
    int rc = sgs_h5_open_read(path, f, err);
    return rc == SGS_OK ? check_version(*f, path, kind, version, size, err) : rc;
}
