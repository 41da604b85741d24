/*
 * engine/cmd_config.c — `segscore config`: the key table, or a file's effective result.
 */
#include "engine/commands.h"
#include "engine/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sgs_cmd_config(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--defaults") == 0) {
        sgs_config_print_doc(stdout);
        return 0;
    }
    if (argc == 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--check") == 0)) {
        sgs_config_t cfg;
        sgs_error_t err = {0};
        sgs_config_defaults(&cfg);
        int rc = sgs_config_load_file(&cfg, argv[2], &err);
        if (rc == SGS_OK)
            rc = sgs_config_validate(&cfg, &err);
        if (rc != SGS_OK) {
            fprintf(stderr, "segscore config: error: %s\n", err.message);
            return sgs_exit_status(rc);
        }
        char *json = sgs_config_to_json(&cfg, 1);
        if (!json) {
            fprintf(stderr, "segscore config: error: out of memory printing the configuration\n");
            return sgs_exit_status(SGS_ENOMEM);
        }
        printf("%s\n", json);
        free(json);
        return 0;
    }
    FILE *out = (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                    ? stdout
                    : stderr;
    fprintf(out,
            "usage: segscore config --defaults     print every key with default and meaning\n"
            "       segscore config -c FILE.json   check a file, print the effective config\n");
    return out == stdout ? 0 : sgs_exit_status(SGS_EUSAGE);
}
