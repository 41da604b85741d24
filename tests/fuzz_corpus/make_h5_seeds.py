#!/usr/bin/env python3
"""Crafted HDF5 seeds for the h5_input fuzz target (called by make_seeds.sh).

Each file is small (a few KB) and exercises one branch of the input reader (io/h5_input.h):
other integer widths and signs, float32, contiguous and chunked and compact layouts, the newest file
format, /events and /customers with referrers, and the problems the reader must name
(NaN, times before 1970, kinds out of range, different lengths, 2-D, strings, missing
datasets, an empty table, a uint64 id above INT64_MAX).
"""
import sys

import h5py
import numpy as np

out = sys.argv[1]


def tx(f, ids, times, amounts, id_type="i8", time_type="i8", amount_type="f8", **kw):
    g = f.create_group("transactions")
    g.create_dataset("customer_id", data=np.array(ids, dtype=id_type), **kw)
    g.create_dataset("time", data=np.array(times, dtype=time_type), **kw)
    g.create_dataset("amount", data=np.array(amounts, dtype=amount_type), **kw)
    return g


T0 = 1704067200  # 2024-01-01
ids, times, amounts = [1, 1, 2, 3], [T0, T0 + 86400, T0 + 3600, T0 + 7 * 86400], [10.0, -2.5, 0.0, 99.99]

with h5py.File(f"{out}/crafted-widths-latest.h5", "w", libver="latest") as f:
    g = tx(f, ids, times, amounts, id_type="u4", time_type="i4", amount_type="f4")
    g.create_dataset("channel", data=np.array([1, 2, 0, 7], dtype="i2"))
    g.create_dataset("category", data=np.array([3, -1, 5, 2], dtype="i8"))

with h5py.File(f"{out}/crafted-chunked-shuffle.h5", "w") as f:
    g = tx(f, ids * 3, times * 3, amounts * 3, chunks=(5,), shuffle=True, compression="gzip")
    g.create_dataset("channel", data=np.array([1, 2, 0, 7] * 3, dtype="u1"), chunks=(4,))

def compact(g, name, arr):
    """A dataset with the compact layout (the data inside the object header)."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple(arr.shape)
    ds = h5py.h5d.create(g.id, name.encode(), h5py.h5t.py_create(arr.dtype), space, dcpl=dcpl)
    ds.write(h5py.h5s.ALL, h5py.h5s.ALL, arr)


with h5py.File(f"{out}/crafted-compact-events-customers.h5", "w", libver="latest") as f:
    tx(f, ids, times, amounts)
    e = f.create_group("events")
    compact(e, "customer_id", np.array([1, 2, 9], dtype="i8"))
    compact(e, "time", np.array([T0, T0 + 5, T0 + 10], dtype="i8"))
    compact(e, "kind", np.array([1, 4, 8], dtype="u1"))
    compact(e, "value", np.array([np.nan, 7.0, 10.0]))
    c = f.create_group("customers")
    c.create_dataset("customer_id", data=np.array([1, 2, 3, 4], dtype="i8"))
    c.create_dataset("signup_time", data=np.array([T0 - 10, 0, T0, T0], dtype="i8"))
    c.create_dataset("referrer_id", data=np.array([-1, 1, 1, 2], dtype="i8"))
    c.create_dataset("preferred_channel", data=np.array([0, 1, 2, 3], dtype="u1"))

with h5py.File(f"{out}/crafted-problems.h5", "w") as f:
    tx(f, [1, 2, 3, 4, 5], [T0, -5, T0 + 99 * 365 * 86400, T0, T0], [1.0, np.nan, np.inf, 2.0, 3.0])
    e = f.create_group("events")
    e.create_dataset("customer_id", data=np.array([1, 2], dtype="i8"))
    e.create_dataset("time", data=np.array([T0, T0], dtype="i8"))
    e.create_dataset("kind", data=np.array([0, 9], dtype="u1"))
    c = f.create_group("customers")
    c.create_dataset("customer_id", data=np.array([1, 1, 2], dtype="i8"))
    c.create_dataset("referrer_id", data=np.array([-1, 5, 1], dtype="i8"))
    c.create_dataset("signup_time", data=np.array([-1, 0, 0], dtype="i8"))

with h5py.File(f"{out}/crafted-shapes.h5", "w") as f:
    g = f.create_group("transactions")
    g.create_dataset("customer_id", data=np.array([[1, 2], [3, 4]], dtype="i8"))
    g.create_dataset("time", data=np.array([T0, T0, T0], dtype="i8"))
    g.create_dataset("amount", data=np.array([b"1.5", b"2", b"x"]))
    g.create_dataset("chanel", data=np.array([1, 2, 3], dtype="u1"))
    e = f.create_group("events")
    e.create_dataset("customer_id", data=np.array([1.5, 2.5]))
    e.create_dataset("time", data=np.array([T0], dtype="i8"))

with h5py.File(f"{out}/crafted-empty-and-range.h5", "w") as f:
    tx(f, [], [], [])
    c = f.create_group("customers")
    c.create_dataset("customer_id", data=np.array([2**63 + 5, 1], dtype="u8"))
    c.create_dataset("preferred_channel", data=np.array([300, 1], dtype="i2"))

with h5py.File(f"{out}/crafted-missing.h5", "w") as f:
    g = f.create_group("transactions")
    g.create_dataset("customer", data=np.array([1], dtype="i8"))
    g.create_dataset("time", data=np.array([T0], dtype="i8"))
    f.create_dataset("events", data=np.array([1], dtype="i8"))

with h5py.File(f"{out}/crafted-unwritten-chunks.h5", "w", libver="latest") as f:
    g = f.create_group("transactions")
    for name, dtype in (("customer_id", "i8"), ("time", "i8"), ("amount", "f8")):
        d = g.create_dataset(name, shape=(6,), dtype=dtype, chunks=(2,), fillvalue=1)
        d[0:2] = np.array([1, T0] if name != "amount" else [1.5, 2.5], dtype=dtype)
