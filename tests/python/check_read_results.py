#!/usr/bin/env python3
"""Checks of examples/read_results.py against a real run's results.h5 and summary.json.

    check_read_results.py RESULTS_H5 SUMMARY_JSON

Run by tests/e2e/test_python_example.c (which skips when /usr/bin/python3 lacks h5py or
pandas). Every check reads the file a second way, with plain h5py, and compares; a failed
check raises AssertionError with both values. Prints one "ok: ..." line per check.
"""

import json
import math
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "examples"))
import read_results as rr  # noqa: E402


def equal(got, expected, what):
    assert got == expected, "%s: expected %r, got %r" % (what, expected, got)


def names_of(f, obj, attribute):
    return [v.decode() if isinstance(v, bytes) else v for v in f[obj].attrs[attribute]]


def main(results, summary_path):
    with open(summary_path) as s:
        summary = json.load(s)
    customers = rr.load_customers(results)
    stages = rr.load_stages(results)
    joined = rr.load_customers_with_stages(results)
    opportunities = rr.load_opportunities(results)
    segments = rr.load_segments(results)
    audit = rr.load_audit(results)
    f = h5py.File(results, "r")

    # Row counts are summary.json's.
    equal(len(customers), summary["customers"]["with_purchases"], "customers")
    equal(len(stages), summary["stages"]["customers"], "known customers")
    equal(len(joined), len(stages), "customers with stages")
    equal(len(opportunities), summary["opportunities"]["listed"], "opportunities")
    assert len(stages) > len(customers), "the input has prospects: more known customers"
    print("ok: row counts %d customers, %d known, %d opportunities"
          % (len(customers), len(stages), len(opportunities)))

    # Decoded names are str, from the file's code tables, and agree with the raw codes.
    for frame, column, obj, attribute, dataset in [
            (customers, "rfm_segment", "/rfm", "segment_names", "/rfm/segment"),
            (customers, "main_channel", "/customers", "main_channel_names",
             "/customers/main_channel"),
            (stages, "stage", "/stages", "stage_names", "/stages/stage"),
            (stages, "cycle_source", "/stages", "cycle_source_names", "/stages/cycle_source"),
            (opportunities, "kind", "/opportunities", "kind_names", "/opportunities/kind"),
            (opportunities, "channel", "/opportunities", "channel_names",
             "/opportunities/channel"),
            (opportunities, "group", "/opportunities", "group_names", "/opportunities/group")]:
        names = names_of(f, obj, attribute)
        codes = f[dataset][()]
        decoded = list(frame[column])
        assert all(isinstance(v, str) for v in decoded), "%s: not all str" % column
        equal(decoded, [names[c] for c in codes], "%s decoded by %s@%s" % (column, obj,
                                                                         attribute))
    equal(set(opportunities["group"]), {"treatment", "control"}, "opportunity groups")
    assert "Champions" in set(customers["rfm_segment"]), "no Champions among the customers"
    print("ok: names decoded (RFM segments %s)" % sorted(set(customers["rfm_segment"])))

    # Customers per RFM segment and per stage are summary.json's.
    per_segment = customers["rfm_segment"].value_counts()
    for row in summary["rfm"]["segments"]:
        equal(int(per_segment[row["name"]]), row["customers"], "RFM segment " + row["name"])
    per_stage = stages["stage"].value_counts()
    for name, count in summary["stages"]["per_stage"].items():
        equal(int(per_stage[name]), count, "stage " + name)
    print("ok: customers per RFM segment and per stage as in summary.json")

    # The join of stages and customers, checked by customer_row for a few customers: the
    # first, last and middle buyer, and prospects (customer_row -1: no summary).
    row_of = f["/stages/customer_row"][()]
    ids = f["/stages/customer_id"][()]
    spend = f["/customers/total_spend"][()]
    buyers = np.flatnonzero(row_of >= 0)
    prospects = np.flatnonzero(row_of < 0)
    assert len(prospects) > 0, "no prospect among the known customers"
    for i in [buyers[0], buyers[len(buyers) // 2], buyers[-1]]:
        got = joined.loc[ids[i], "total_spend"]
        equal(got, spend[row_of[i]], "total_spend of customer %d" % ids[i])
        equal(joined.loc[ids[i], "n_purchase_days"],
              joined.loc[ids[i], "n_purchase_days_summary"],
              "purchase days of customer %d, stage and summary" % ids[i])
    for i in prospects[:3]:
        assert math.isnan(joined.loc[ids[i], "total_spend"]), "prospect %d has a spend" % ids[i]
        equal(str(joined.loc[ids[i], "stage"]) in names_of(f, "/stages", "stage_names"), True,
              "stage of prospect %d" % ids[i])
    print("ok: stages joined with customers on customer_id (%d buyers, %d prospects)"
          % (len(buyers), len(prospects)))

    # Value scores and k-means segments when present.
    if "clv" in f:
        got, expected = float(customers["clv"].sum()), float(f["/clv/clv"][()].sum())
        assert math.isclose(got, expected, rel_tol=1e-12), "CLV total: %r, %r" % (got, expected)
        print("ok: value scores (model %s)" % rr.attribute(f["/clv"], "model"))
    if "clusters" in f:
        k = rr.attribute(f["/clusters"], "k")
        equal(len(segments), k, "segments")
        equal(customers.groupby("segment").size().tolist(),
              [int(s) for s in segments["size"]], "segment sizes")
        print("ok: %d k-means segments, labelled %s" % (k, list(segments["label"])))
    if "audit" in f:
        equal(int(audit["by_stage"].loc["all", "customers"]),
              int(f["/audit/by_stage/customers"][()][-1]), "audit: everyone")
        contacts = f["/audit/by_stage/contacts"][()]
        got = audit["by_channel"].query("grouping == 'by_stage' and row == 'all'")["contacts"]
        equal(int(got.sum()), int(contacts[-1].sum()), "audit: contacts of everyone")
        print("ok: audit (%d customers)" % audit["by_stage"].loc["all", "customers"])
    f.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_read_results.py RESULTS_H5 SUMMARY_JSON")
    main(sys.argv[1], sys.argv[2])
