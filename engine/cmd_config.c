/*
 * engine/cmd_config.c — `segscore config`: the key table, or a file's effective result.
 */
#include "engine/commands.h"
#include "engine/config.h"
#include "engine/options.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: segscore config --defaults     print every key with default and meaning\n"
            "       segscore config -c FILE.json   check a file, print the effective config\n");
}

int sgs_cmd_config(int argc, char **argv)
{
    int defaults = 0;
    const char *check = NULL;
    const sgs_option_t options[] = {
        {.name = "defaults", .kind = SGS_OPT_FLAG, .target = &defaults},
        {.name = "check", .short_name = 'c', .kind = SGS_OPT_TEXT, .target = &check},
    };
    const sgs_command_line_t command_line = {.command = "config",
                                             .help = usage,
                                             .options = options,
                                             .n_options = sizeof options / sizeof options[0]};
    int status = sgs_command_line_parse(&command_line, argc, argv);
    if (status >= 0)
        return status;
    if (defaults == !!check)
        return sgs_usage_error("config", "give one of --defaults and -c FILE");
    if (defaults) {
        sgs_config_print_doc(stdout);
        return 0;
    }
    sgs_config_t cfg;
    sgs_config_defaults(&cfg);
    sgs_error_t err = {0};
    int rc = sgs_config_load_file(&cfg, check, &err);
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
    cJSON_free(json);
    return 0;
}
