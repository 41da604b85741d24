/*
 * bench/bench_actions.c — time of the lifecycle, influence and opportunity kernels on a
 * generated base (defaults: 10,000,000 customers, 20,000,000 events, 2 threads).
 *
 *   bench_actions [n_customers] [n_events] [threads]
 *
 * Prints one line per kernel with its wall time and the total of stages + influence +
 * detection + ranking (the target: under 3 s on 2 threads at the default size),
 * beside a few counts so that a run can be sanity-checked; then what the interaction audit
 * (two groupings, as a run makes), the contact policy and the control draw add.
 */
#include "kernels/audit.h"
#include "kernels/contact_policy.h"
#include "kernels/influence.h"
#include "kernels/opportunities.h"
#include "kernels/stages.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static void *xmalloc(size_t n, size_t size)
{
    size_t bytes = n * size;
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (!p) {
        fprintf(stderr, "bench_actions: out of memory\n");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000000;
    size_t n_events = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 20000000;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    const uint64_t seed = 7;
    const int32_t as_of = 20000;
    sgs_exec_t exec = {.n_threads = threads};
    long nl = (long)n;

    /* ---- generate: ids, purchase days (0..6 per customer), events (n_events spread
     * as evenly as possible), model columns, segments, channels, referrers */
    int64_t *id = xmalloc(n, sizeof *id);
    size_t *poff = xmalloc(n + 1, sizeof *poff), *eoff = xmalloc(n + 1, sizeof *eoff);
    double *p_buy = xmalloc(n, sizeof(double)), *rate = xmalloc(n, sizeof(double));
    double *clv = xmalloc(n, sizeof(double));
    int32_t *segment = xmalloc(n, sizeof(int32_t));
    uint8_t *pref = xmalloc(n, 1), *main_ch = xmalloc(n, 1);
    int64_t *referrer = xmalloc(n, sizeof(int64_t));
    poff[0] = eoff[0] = 0;
    for (size_t i = 0; i < n; i++) {
        poff[i + 1] = poff[i] + sgs_rng_u64(seed, 0, i) % 7;
        eoff[i + 1] = (i + 1) * n_events / n;
    }
    size_t n_p = poff[n];
    int32_t *pday = xmalloc(n_p, sizeof(int32_t));
    int32_t *eday = xmalloc(n_events, sizeof(int32_t));
    uint8_t *ekind = xmalloc(n_events, 1), *echannel = xmalloc(n_events, 1);
    double *evalue = xmalloc(n_events, sizeof(double));
    double t0 = omp_get_wtime();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long il = 0; il < nl; il++) {
        size_t i = (size_t)il;
        sgs_rng_t rng;
        sgs_rng_init(&rng, seed, 1 + i);
        id[i] = 2 * (int64_t)i + 1;
        int32_t d = as_of - 700 + (int32_t)(sgs_rng_next_u64(&rng) % 650);
        for (size_t r = poff[i]; r < poff[i + 1]; r++) {
            pday[r] = d;
            d += 1 + (int32_t)(sgs_rng_next_u64(&rng) % 90);
        }
        int32_t e = as_of - 200 + (int32_t)(sgs_rng_next_u64(&rng) % 100);
        for (size_t r = eoff[i]; r < eoff[i + 1]; r++) {
            eday[r] = e;
            ekind[r] = (uint8_t)(1 + sgs_rng_next_u64(&rng) % 8);
            echannel[r] = (uint8_t)(sgs_rng_next_u64(&rng) % 8);
            evalue[r] =
                ekind[r] == SGS_EVENT_SURVEY ? (double)(sgs_rng_next_u64(&rng) % 11) : (double)NAN;
            e += (int32_t)(sgs_rng_next_u64(&rng) % 40);
        }
        p_buy[i] = sgs_rng_next_uniform(&rng);
        rate[i] = sgs_rng_next_uniform(&rng) * 0.1;
        clv[i] = sgs_rng_next_uniform(&rng) * 1000.0;
        segment[i] = (int32_t)(sgs_rng_next_u64(&rng) % 9) - 1;
        pref[i] = (uint8_t)(sgs_rng_next_u64(&rng) % 8);
        main_ch[i] = (uint8_t)(sgs_rng_next_u64(&rng) % 4);
        uint64_t u = sgs_rng_next_u64(&rng) % 100;
        referrer[i] = (u < 20 && i > 0) ? id[sgs_rng_next_u64(&rng) % i] : -1;
    }
    printf("generated %zu customers, %zu purchase days, %zu events in %.2f s\n", n, n_p, n_events,
           omp_get_wtime() - t0);

    sgs_sparse_values_t evalues;
    if (sgs_sparse_values_build(&exec, evalue, n_events, &evalues, NULL) != SGS_OK)
        return 1;
    sgs_stage_input_t cu = {.n = n,
                            .customer_id = id,
                            .purchase_offset = poff,
                            .purchase_day = pday,
                            .event_offset = eoff,
                            .event_day = eday,
                            .event_kind = ekind,
                            .event_value = &evalues,
                            .event_channel = echannel,
                            .p_buy = p_buy,
                            .rate_per_day = rate,
                            .clv = clv,
                            .segment = segment,
                            .preferred_channel = pref,
                            .main_channel = main_ch};
    uint8_t *stage = xmalloc(n, 1), *stage_then = xmalloc(n, 1);
    double *cycle = xmalloc(n, sizeof(double)), *overdue = xmalloc(n, sizeof(double));
    double *cycle_then = xmalloc(n, sizeof(double)), *overdue_then = xmalloc(n, sizeof(double));
    int64_t *direct = xmalloc(n, sizeof(int64_t)), *indirect = xmalloc(n, sizeof(int64_t));
    double *nv = xmalloc(n, sizeof(double));
    uint16_t *mask = xmalloc(n, sizeof(uint16_t));
    /* touch the outputs once, as the pipeline's reused buffers would be */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long i = 0; i < nl; i++) {
        stage[i] = stage_then[i] = 0;
        cycle[i] = overdue[i] = cycle_then[i] = overdue_then[i] = nv[i] = 0;
        direct[i] = indirect[i] = 0;
        mask[i] = 0;
    }
    sgs_error_t err = {0};
    sgs_stage_summary_t ssum;

    t0 = omp_get_wtime();
    sgs_stage_output_t so = {stage, cycle, overdue, NULL, NULL, NULL, NULL, 0};
    if (sgs_stages_compute(&cu, as_of, NULL, &exec, &so, &ssum, &err))
        goto fail;
    double t_stages = omp_get_wtime() - t0;

    t0 = omp_get_wtime();
    sgs_stage_input_t cu_then = cu;
    cu_then.p_buy = NULL;
    cu_then.rate_per_day = NULL;
    sgs_stage_output_t so2 = {stage_then, cycle_then, overdue_then, NULL, NULL, NULL, NULL, 0};
    if (sgs_stages_compute(&cu_then, as_of - 30, NULL, &exec, &so2, NULL, &err))
        goto fail;
    int64_t counts[SGS_STAGE_COUNT * SGS_STAGE_COUNT];
    if (sgs_stage_transitions(n, stage_then, stage, &exec, counts, &err))
        goto fail;
    double t_compare = omp_get_wtime() - t0;

    t0 = omp_get_wtime();
    sgs_influence_output_t io = {direct, indirect, nv, NULL, NULL, NULL};
    sgs_influence_report_t irep;
    if (sgs_influence_compute(n, id, referrer, clv, NULL, &exec, &io, &irep, &err))
        goto fail;
    double t_influence = omp_get_wtime() - t0;

    sgs_opportunity_config_t cfg;
    sgs_opportunity_config_default(&cfg);
    sgs_opportunity_input_t in = {&cu,        as_of,  stage,    cycle, overdue, NULL, stage_then,
                                  as_of - 30, direct, indirect, nv,    NULL,    NULL};
    sgs_opportunity_stats_t st;
    t0 = omp_get_wtime();
    if (sgs_opportunities_detect(&in, &cfg, &exec, mask, &st, &err))
        goto fail;
    double t_detect = omp_get_wtime() - t0;

    /* the audit by stage and by a second grouping (segment + 1, as the run's RFM one), the
     * contact policy, then the ranking without and with the control draw */
    uint8_t *group2 = xmalloc(n, 1), *blocked = xmalloc(n, 1);
    for (size_t i = 0; i < n; i++)
        group2[i] = (uint8_t)(segment[i] + 1);
    sgs_audit_config_t acfg;
    sgs_audit_config_default(&acfg);
    sgs_audit_row_t arows[SGS_STAGE_COUNT + 1], arows2[11];
    t0 = omp_get_wtime();
    if (sgs_audit_compute(&cu, as_of, &acfg, stage, SGS_STAGE_COUNT, mask, &exec, arows, NULL,
                          &err) ||
        sgs_audit_compute(&cu, as_of, &acfg, group2, 10, mask, &exec, arows2, NULL, &err))
        goto fail;
    double t_audit = omp_get_wtime() - t0;
    sgs_contact_policy_stats_t pst;
    t0 = omp_get_wtime();
    if (sgs_contact_policy_apply(&in, &cfg, &exec, mask, blocked, &st, &pst, &err))
        goto fail;
    double t_policy = omp_get_wtime() - t0;
    in.blocked_channels = blocked;

    size_t cap = (size_t)st.n_candidates;
    sgs_opportunity_rows_t rows = {xmalloc(cap, sizeof(int64_t)),
                                   xmalloc(cap, 1),
                                   xmalloc(cap, sizeof(int32_t)),
                                   xmalloc(cap, sizeof(double)),
                                   xmalloc(cap, 1),
                                   xmalloc(cap, sizeof(int64_t)),
                                   xmalloc(cap, 1)};
    size_t n_rows = 0;
    sgs_opportunity_list_summary_t lsum;
    /* a first ranking touches the row arrays, so that neither timed one pays for it */
    if (sgs_opportunities_rank(&in, &cfg, &st, mask, &exec, &rows, cap, &n_rows, &lsum, &err))
        goto fail;
    cfg.control_share = 0;
    t0 = omp_get_wtime();
    if (sgs_opportunities_rank(&in, &cfg, &st, mask, &exec, &rows, cap, &n_rows, &lsum, &err))
        goto fail;
    double t_rank_no_control = omp_get_wtime() - t0;
    sgs_opportunity_config_default(&cfg);
    t0 = omp_get_wtime();
    if (sgs_opportunities_rank(&in, &cfg, &st, mask, &exec, &rows, cap, &n_rows, &lsum, &err))
        goto fail;
    double t_rank = omp_get_wtime() - t0;

    printf("threads %d\n", threads);
    printf("stages              %7.3f s  (active %lld, lapsed %lld)\n", t_stages,
           (long long)ssum.n_per_stage[SGS_STAGE_ACTIVE],
           (long long)ssum.n_per_stage[SGS_STAGE_LAPSED]);
    printf("compare date + transitions %7.3f s\n", t_compare);
    printf("influence           %7.3f s  (referrers %lld, max depth %lld)\n", t_influence,
           (long long)irep.n_referrers, (long long)irep.max_depth);
    printf("triggers            %7.3f s  (customers %lld)\n", t_detect, (long long)st.n_customers);
    printf("ranking + capacity  %7.3f s  (listed %zu, left out %lld)\n", t_rank, n_rows,
           (long long)lsum.n_left_out);
    printf("total (stages + influence + triggers + ranking) %.3f s\n",
           t_stages + t_influence + t_detect + t_rank);
    printf("audit, 2 groupings  %7.3f s  (contacted in %d days %lld, untapped %lld)\n", t_audit,
           (int)acfg.window_days[1], (long long)arows[SGS_STAGE_COUNT].contacted[1],
           (long long)arows[SGS_STAGE_COUNT].untapped[1]);
    printf("contact policy      %7.3f s  (held back %lld, with an unanswered channel %lld)\n",
           t_policy, (long long)pst.n_held_back, (long long)pst.n_with_blocked_channel);
    printf("control draw        %7.3f s  (ranking %.3f s with, %.3f s without; control %lld)\n",
           t_rank - t_rank_no_control, t_rank, t_rank_no_control, (long long)lsum.n_control);
    printf("added by audit + policy + control %.3f s\n",
           t_audit + t_policy + (t_rank - t_rank_no_control));
    sgs_opportunity_stats_free(&st);
    return 0;
fail:
    fprintf(stderr, "bench_actions: %s\n", err.message);
    return 1;
}
