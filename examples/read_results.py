#!/usr/bin/env python3
"""Read a segscore results file (results.h5) into pandas DataFrames, with h5py.

    python3 examples/read_results.py results.h5      # a short overview

or, from your own code (with examples/ on sys.path):

    import read_results as rr
    customers = rr.load_customers("results.h5")       # summary, RFM, value, k-means segment
    stages = rr.load_stages("results.h5")             # every known customer, prospects too
    both = rr.load_customers_with_stages("results.h5")
    opportunities = rr.load_opportunities("results.h5")
    audit = rr.load_audit("results.h5")               # None when the input had no /events

The file's layout (every group, dataset and attribute, and when it is written) is in
docs/results-layout.md. Three things to know:

- Columns are one-dimensional datasets of equal length within a group. /customers, /rfm,
  /clv and /clusters have one row per customer with a purchase, ascending customer_id;
  /stages has one row per *known* customer (buyers, prospects, customers seen only in
  /events), a longer list: join the two on customer_id, never by position.
- Code columns (channel, RFM segment, stage, opportunity kind, list group) are small
  integers; their names are a string attribute of the group indexed by code
  (/rfm@segment_names, /stages@stage_names, /opportunities@kind_names, ...). They are decoded
  here into pandas categoricals whose values are those names.
- /clv is written only when the value step ran, /clusters and /profiles only when the
  segment step ran, /audit only when the input had /events: the loaders leave those columns
  out (or return None) when the group is absent.

Tested by tests/e2e/test_python_example.c with tests/python/check_read_results.py.
"""

import sys

import h5py
import numpy as np
import pandas as pd


# ---- helpers ---------------------------------------------------------------------------

def code_names(obj, attribute):
    """The code table `obj@attribute` (a string array attribute indexed by code) as a list
    of str. h5py gives str for variable-length UTF-8 strings; older files may give bytes."""
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v)
            for v in obj.attrs[attribute]]


def decode(codes, names):
    """Integer codes as their names: a categorical when the names are distinct (the code
    tables are; two k-means segments may share a label), else an array of str. Raises
    ValueError on a code that has no name: the file and its code table disagree."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= len(names)):
        raise ValueError("code %d has no name among %d" % (
            codes.min() if codes.min() < 0 else codes.max(), len(names)))
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(codes, categories=names)
    return np.asarray(names, dtype=object)[codes]


def columns(group, n, skip=()):
    """Every one-dimensional dataset of `group` with n rows, as {name: numpy array}, in the
    file's order. Tables of other shapes (transition matrices, per-stage means) are left
    out."""
    out = {}
    for name, obj in group.items():
        if name in skip or not isinstance(obj, h5py.Dataset) or obj.shape != (n,):
            continue
        data = obj[()]
        if data.dtype.kind == "O":  # variable-length strings
            data = np.array([v.decode("utf-8") if isinstance(v, bytes) else v for v in data],
                            dtype=object)
        out[name] = data
    return out


def attribute(obj, name, default=None):
    """A scalar attribute as a Python value (str for strings), or `default` when absent."""
    if name not in obj.attrs:
        return default
    value = obj.attrs[name]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---- loaders ---------------------------------------------------------------------------

def load_customers(path):
    """One row per customer with a purchase, indexed by customer_id (ascending): the summary
    (/customers), RFM scores with the segment's name (/rfm), value scores (/clv, when the
    value step ran) and the k-means segment with its label (/clusters and /profiles, when the
    segment step ran). Decoded columns: main_channel, rfm_segment, and segment_label."""
    with h5py.File(path, "r") as f:
        ids = f["/customers/customer_id"][()]
        n = len(ids)
        data = columns(f["/customers"], n, skip=("customer_id",))
        data["main_channel"] = decode(data["main_channel"],
                                      code_names(f["/customers"], "main_channel_names"))
        rfm = columns(f["/rfm"], n)
        for name in ("r_score", "f_score", "m_score", "score", "cell"):
            data["rfm_" + name] = rfm[name]
        data["rfm_segment"] = decode(rfm["segment"], code_names(f["/rfm"], "segment_names"))
        if "clv" in f:
            data.update(columns(f["/clv"], n))
        if "clusters" in f:
            clusters = f["/clusters"]
            data["segment"] = clusters["label"][()]
            data["segment_distance"] = clusters["distance"][()]
            labels = [v.decode("utf-8") if isinstance(v, bytes) else str(v)
                      for v in f["/profiles/label"][()]]
            data["segment_label"] = decode(data["segment"], labels)
    return pd.DataFrame(data, index=pd.Index(ids, name="customer_id"))


def load_stages(path):
    """One row per known customer, indexed by customer_id (ascending): purchase cycle and
    lifecycle stage (/stages). `customer_row` is the row in /customers, -1 for a customer
    without a purchase (a prospect). Decoded columns: stage, cycle_source and, with
    --compare-as-of, stage_at_compare."""
    with h5py.File(path, "r") as f:
        g = f["/stages"]
        ids = g["customer_id"][()]
        data = columns(g, len(ids), skip=("customer_id",))
        stage_names = code_names(g, "stage_names")
        data["stage"] = decode(data["stage"], stage_names)
        data["cycle_source"] = decode(data["cycle_source"], code_names(g, "cycle_source_names"))
        if "stage_at_compare" in data:
            data["stage_at_compare"] = decode(data["stage_at_compare"], stage_names)
    return pd.DataFrame(data, index=pd.Index(ids, name="customer_id"))


def load_customers_with_stages(path):
    """Every known customer's stage with, for those with a purchase, their summary, RFM and
    value columns: load_stages left-joined with load_customers on customer_id (prospects get
    NaN there). Columns both have (n_purchase_days) keep the stage's under its own name and
    the summary's with the suffix _summary."""
    return load_stages(path).join(load_customers(path), how="left", rsuffix="_summary")


def load_opportunities(path):
    """The ranked list, one row per listed opportunity in rank order (/opportunities), with
    kind, channel and group (treatment: contact; control: do not contact) decoded."""
    with h5py.File(path, "r") as f:
        g = f["/opportunities"]
        n = g["customer_id"].shape[0]
        # the rows are in rank order (older files also store it as the column "rank")
        data = {"rank": np.arange(1, n + 1, dtype=np.int64)}
        data.update(columns(g, n))
        data["kind"] = decode(data["kind"], code_names(g, "kind_names"))
        data["channel"] = decode(data["channel"], code_names(g, "channel_names"))
        data["group"] = decode(data["group"], code_names(g, "group_names"))
    return pd.DataFrame(data)


def load_segments(path):
    """The k-means segments' profiles (/profiles), one row per segment, or None when the
    segment step did not run: size, customer, revenue and CLV shares, label, and the mean of
    each feature used (columns mean_<feature>)."""
    with h5py.File(path, "r") as f:
        if "profiles" not in f:
            return None
        g = f["/profiles"]
        k = g["size"].shape[0]
        data = columns(g, k)
        data["size"] = data["size"].astype(np.int64)  # a whole number stored as float64
        means = g["mean"][()]
        for j, feature in enumerate(code_names(g, "feature_names")):
            data["mean_" + feature] = means[:, j]
    return pd.DataFrame(data, index=pd.RangeIndex(k, name="segment"))


def load_audit(path):
    """The interaction audit (/audit), or None when the input had no /events. A dict of
    DataFrames:
      "by_stage", "by_rfm_segment": one row per stage (RFM segment) and a last row `all`;
        counts over a window get one column per window, e.g. contacted_30d and contacted_90d;
      "by_channel": the per-channel counts (contacts, contacted_via, responses) of both
        groupings in long form: grouping, row, window_days, channel;
      "untapped_per_kind": customers per opportunity kind with no campaign contact, per
        window."""
    with h5py.File(path, "r") as f:
        if "audit" not in f:
            return None
        audit = f["/audit"]
        windows = [attribute(audit, "short_window_days"), attribute(audit, "long_window_days")]
        channels = code_names(audit, "channel_names")
        out, long_rows = {}, []
        for grouping in ("by_stage", "by_rfm_segment"):
            g = audit[grouping]
            rows = code_names(g, "row_names")
            table = {}
            for name, ds in g.items():
                values = ds[()]
                if values.ndim == 1:
                    table[name] = values
                elif values.ndim == 2:
                    for w, days in enumerate(windows):
                        table["%s_%dd" % (name, days)] = values[:, w]
                else:  # rows x windows x channels
                    for r, row in enumerate(rows):
                        for w, days in enumerate(windows):
                            for c, channel in enumerate(channels):
                                long_rows.append((grouping, row, days, channel, name,
                                                  int(values[r, w, c])))
            out[grouping] = pd.DataFrame(table, index=pd.Index(rows, name="row"))
        by_channel = pd.DataFrame(long_rows, columns=["grouping", "row", "window_days",
                                                      "channel", "measure", "count"])
        out["by_channel"] = by_channel.pivot_table(
            index=["grouping", "row", "window_days", "channel"], columns="measure",
            values="count", sort=False).reset_index()
        untapped = audit["untapped_per_kind"][()]
        kinds = code_names(audit["untapped_per_kind"], "kind_names")
        out["untapped_per_kind"] = pd.DataFrame(
            {"untapped_%dd" % days: untapped[1:, w] for w, days in enumerate(windows)},
            index=pd.Index(kinds[1:], name="kind"))  # code 0 is unused
    return out


def load_run(path):
    """The root attributes: what produced the file (engine_version, as_of, time_unit,
    n_customers, input, config as a JSON string)."""
    with h5py.File(path, "r") as f:
        return {name: attribute(f, name) for name in f.attrs}


# ---- overview --------------------------------------------------------------------------

def overview(path, out=sys.stdout):
    """Print a short overview of a results file: what produced it and, per table, a count by
    its decoded names."""
    run = load_run(path)
    customers = load_customers(path)
    stages = load_stages(path)
    opportunities = load_opportunities(path)
    segments = load_segments(path)
    audit = load_audit(path)

    def p(*parts):
        print(*parts, file=out)

    p("%s: segscore %s, as of %s" % (path, run["engine_version"], run["as_of"]))
    p("customers: %d with a purchase, %d known" % (len(customers), len(stages)))
    p("revenue: %.2f" % customers["total_spend"].sum())
    if "clv" in customers:
        p("expected CLV: %.2f" % customers["clv"].sum())
    p("\nRFM segments (customers):")
    p(customers["rfm_segment"].value_counts(sort=False).to_string())
    p("\nstages (known customers):")
    p(stages["stage"].value_counts(sort=False).to_string())
    if segments is not None:
        p("\nk-means segments:")
        p(segments[["label", "size", "revenue_share"]].to_string())
    p("\nopportunities: %d listed" % len(opportunities))
    if len(opportunities):
        p(opportunities.groupby(["kind", "group"], observed=True).size()
              .rename("rows").to_string())
    if audit is not None:
        p("\naudit of contact activity, everyone (windows in days):")
        p(audit["by_stage"].loc["all"].to_string())

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: read_results.py results.h5")
    overview(sys.argv[1])
