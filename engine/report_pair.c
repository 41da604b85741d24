/*
 * engine/report_pair.c — the HDF5 and JSON reports of evaluate and measure. See
 * report_pair.h.
 */
#include "engine/report_pair.h"

#include "engine/exit_status.h"
#include "engine/interrupt.h"

#include <stdio.h>

int sgs_report_pair_open(sgs_report_pair_t *p, const char *command, const sgs_named_path_t *inputs,
                         size_t n_inputs, const char *h5, const char *json,
                         sgs_progress_t *progress)
{
    p->command = command;
    p->h5 = h5;
    p->json = json;
    sgs_named_path_t outputs[2];
    size_t n = 0;
    if (h5)
        outputs[n++] = (sgs_named_path_t){"output (-o)", h5};
    if (json)
        outputs[n++] = (sgs_named_path_t){"--json output", json};
    sgs_error_t err = {0};
    int rc =
        sgs_command_outputs_open(command, inputs, n_inputs, outputs, n, progress, &p->outs, &err);
    if (rc == SGS_OK)
        return 0;
    sgs_command_outputs_close(&p->outs);
    fprintf(stderr, "segscore %s: error: %s\n", command, err.message);
    return sgs_exit_status(rc);
}

int sgs_report_pair_publish(sgs_report_pair_t *p, int rc, sgs_report_write_t write_h5,
                            sgs_report_write_t write_json, const void *result, const void *request,
                            sgs_error_t *err)
{
    char point[64];
    snprintf(point, sizeof point, "%s-write", p->command);
    if (rc == SGS_OK)
        rc = sgs_interrupt_checkpoint(point, "before writing the outputs", err);
    if (rc == SGS_OK)
        rc = sgs_command_outputs_begin(&p->outs, err);
    size_t i = 0;
    if (rc == SGS_OK && p->h5) {
        rc = write_h5(result, request, sgs_command_outputs_file(&p->outs, i),
                      sgs_command_outputs_path(&p->outs, i), err);
        i++;
    }
    if (rc == SGS_OK && p->json)
        rc = write_json(result, request, sgs_command_outputs_file(&p->outs, i),
                        sgs_command_outputs_path(&p->outs, i), err);
    snprintf(point, sizeof point, "%s-written", p->command);
    if (rc == SGS_OK)
        rc = sgs_command_outputs_publish(&p->outs, point, err);
    sgs_command_outputs_close(&p->outs);
    return rc;
}

int sgs_report_pair_exit(const sgs_report_pair_t *p, int rc, const sgs_error_t *err,
                         sgs_progress_t *progress)
{
    if (rc != SGS_OK) {
        fprintf(stderr, "segscore %s: %s%s\n", p->command, rc == SGS_EINTR ? "" : "error: ",
                err->message[0] ? err->message : sgs_strerror(rc));
        return sgs_interrupt_exit_status_for(rc);
    }
    if (p->h5 || p->json)
        sgs_progress_note(progress, "wrote%s%s%s%s", p->h5 ? " " : "", p->h5 ? p->h5 : "",
                          p->json ? " " : "", p->json ? p->json : "");
    return 0;
}
