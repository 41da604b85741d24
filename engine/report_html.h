/*
 * engine/report_html.h — the sections of report.html (engine/write_report_html.c writes the
 * page and calls them in order; docs/report.md says what each shows). Each section writes
 * HTML to `out` from the run state, charts through io/svg_chart.h and text through
 * io/html_doc.h; numbers come from the same members of the run state as report.txt's and
 * summary.json's. Charts are over aggregates only (segments, scores, deciles, kinds), so a
 * section's size and time do not grow with the customer count, except for the passes over
 * customers named in each function's comment. Internal to engine/.
 */
#ifndef SGS_REPORT_HTML_H
#define SGS_REPORT_HTML_H

#include "engine/run_state.h"

#include <stdio.h>

/* Rows of the top-opportunities table (report.txt shows 10). */
#define SGS_REPORT_HTML_TOP_ROWS 25

/* What CRM practice suggests for RFM segment k (engine/write_report.c, report.txt's table). */
const char *sgs_report_segment_action(int k);

/* RFM: the segment bar chart and table, the recency x frequency heat map (one pass over the
 * customers: counts and revenue per score pair) (engine/report_html_rfm.c). */
void sgs__html_rfm(const sgs_run_state_t *st, FILE *out);

/* Value: the models, CLV per RFM segment and the CLV concentration (from st->figures), the
 * backtest and the calibration chart (engine/report_html_value.c). Only when the value step
 * ran. */
void sgs__html_value(const sgs_run_state_t *st, FILE *out);

/* k-means segments: the size chart and the profile table (engine/report_html_segments.c).
 * Only when the segment step ran. @return 0 or SGS_ENOMEM (sgs__html_text_section). */
int sgs__html_segments(const sgs_run_state_t *st, FILE *out, sgs_error_t *err);

/* Stages and transitions, the audit, opportunities by kind and channel, the top list, what
 * was learned (engine/report_html_actions.c). Only when st->actions is set. @return 0 or
 * SGS_ENOMEM (sgs__html_text_section). */
int sgs__html_actions(const sgs_run_state_t *st, FILE *out, sgs_error_t *err);

/* With output.compare_summary (engine/report_html_compare.c): the figures at a glance in the
 * previous run and this one, as a table; nothing without. */
void sgs__html_compare_glance(const sgs_run_state_t *st, FILE *out);

/* With output.compare_summary: chart NAME, counts per category (names[i], NULL to skip) in the
 * previous run (then, NaN: not in its summary) and this one (now) as paired bars, `what` the
 * counted thing with its unit ("customers"), `category` what the bars are ("RFM segment");
 * categories with neither are left out. */
void sgs__html_compare_counts(const sgs_run_state_t *st, FILE *out, const char *name,
                              const char *title, const char *what, const char *category,
                              const char *const *names, const double *then, const double *now,
                              size_t n_names);

/* A section of report.txt, written by its own function, inside <details><pre>: the same facts
 * in the same words (used for tables the HTML does not redraw); nothing when the section is
 * empty. open: the <details> start unfolded. @return 0, or SGS_ENOMEM when the memory stream
 * the section is written into cannot be made or grown (err says which section). */
int sgs__html_text_section(const sgs_run_state_t *st, FILE *out,
                           void (*report)(const sgs_run_state_t *, FILE *), const char *summary,
                           int open, sgs_error_t *err);

/* <section id="ID"><h2>TITLE</h2> and </section>. */
void sgs__html_section_begin(FILE *out, const char *id, const char *title);
void sgs__html_section_end(FILE *out);

#endif
