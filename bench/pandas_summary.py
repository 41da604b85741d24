"""bench/pandas_summary.py — the customer summary of docs/spend.md in pandas, for the benchmarks
that compare segscore with the pipeline a data scientist would write (bench_vs_pandas.py,
bench_vs_python_pipeline.py).

A day's refunds net against its purchases; a day is an occasion when it has a purchase and
no refund or a positive net; a refund not netted that day (refund-only days, or what a
cancelled day refunds beyond its purchases) lowers the latest earlier occasion, to 0 at most.
"""
import numpy as np


def summarize(df, as_of):
    """df: customer_id, time, amount (a pandas DataFrame; columns day, is_purchase,
    purchase_amount and refund_amount are added). Returns one row per customer with an
    occasion, indexed by customer_id: first, last, n_days, frequency, recency, T, since_last,
    total_spend, mean_spend, monetary."""
    df["day"] = df["time"] // 86400
    df["is_purchase"] = df["amount"] >= 0
    df["purchase_amount"] = df["amount"].where(df["is_purchase"], 0.0)
    df["refund_amount"] = df["amount"].where(~df["is_purchase"], 0.0)
    daily = df.groupby(["customer_id", "day"], sort=True).agg(
        bought=("purchase_amount", "sum"), refunded=("refund_amount", "sum"),
        purchases=("is_purchase", "sum"), rows=("amount", "size")).reset_index()
    total_spend = df.groupby("customer_id", sort=True)["amount"].sum()
    net = daily["bought"] + daily["refunded"]
    occasion = (daily["purchases"] > 0) & ((daily["purchases"] == daily["rows"]) | (net > 0))
    # an occasion's own net, and each later non-occasion day's unnetted refund, summed per
    # (customer, latest occasion so far); rows before any occasion lower only total spend
    daily["occ"] = occasion.astype(np.int64).groupby(daily["customer_id"]).cumsum()
    daily["part"] = np.where(occasion, net, np.minimum(net, 0.0))
    daily = daily[daily["occ"] > 0]
    occ = daily.groupby(["customer_id", "occ"], sort=True).agg(
        day=("day", "first"), amount=("part", "sum"))
    occ["amount"] = occ["amount"].clip(lower=0.0)
    occ = occ.reset_index()
    per = occ.groupby("customer_id", sort=True).agg(
        first=("day", "min"), last=("day", "max"), n_days=("day", "size"),
        day_total_sum=("amount", "sum"), first_total=("amount", "first"))
    per["frequency"] = per["n_days"] - 1
    per["recency"] = per["last"] - per["first"]
    per["T"] = as_of - per["first"]
    per["since_last"] = as_of - per["last"]
    per["total_spend"] = total_spend.reindex(per.index)
    per["mean_spend"] = per["total_spend"] / per["n_days"]
    per["monetary"] = np.where(per["frequency"] > 0,
                               (per["day_total_sum"] - per["first_total"]) /
                               per["frequency"].clip(lower=1), 0.0)
    return per
