/*
 * engine/run_rfm.h — the RFM step's result (engine/run_rfm.c): scores, segments and cells
 * of every customer of the summary (kernels/rfm.h), and customers and revenue per named
 * segment. Internal to engine/.
 */
#ifndef SGS_RUN_RFM_H
#define SGS_RUN_RFM_H

#include "kernels/rfm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sgs_run_rfm {
    /* owned; one entry per customer of the summary (NULL before the step) */
    uint8_t *r_score, *f_score, *m_score;            /* 1..bins */
    uint8_t *rfm_segment;                            /* enum sgs_rfm_segment */
    uint8_t *rfm_total;                              /* r + f + m */
    uint16_t *rfm_cell;                              /* 100 r + 10 f + m */
    size_t segment_customers[SGS_RFM_SEGMENT_COUNT]; /* customers per named segment */
    double segment_revenue[SGS_RFM_SEGMENT_COUNT];   /* their total spend */
} sgs_run_rfm_t;

/* An empty result (nothing owned). */
void sgs_run_rfm_init(sgs_run_rfm_t *r);

/* Free what *r owns and leave it empty. NULL-safe. */
void sgs_run_rfm_free(sgs_run_rfm_t *r);

#endif
