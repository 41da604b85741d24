/*
 * tests/support/report_charts.h — the charts of report.html that a run of a generated base
 * with events, a backtest, k-means segments and --compare-as-of draws (docs/report.md), for
 * the tests that read the report as text and in a browser; the per-segment profiles
 * (segment-profile-J) come on top, one per segment.
 */
#ifndef SGS_TEST_REPORT_CHARTS_H
#define SGS_TEST_REPORT_CHARTS_H

static const char *const sgs_test_report_charts[] = {
    "rfm-segments",
    "rfm-grid",
    "clv-concentration",
    "frequency-recency-expected",
    "frequency-recency-p-alive",
    "backtest-tracking",
    "backtest-by-frequency",
    "calibration",
    "segments",
    "stages",
    "transitions",
    "audit",
    "opportunities-kind",
    "opportunities-channel",
    "capacity",
};
#define SGS_TEST_REPORT_CHART_COUNT                                                                \
    (sizeof sgs_test_report_charts / sizeof sgs_test_report_charts[0])

#endif
