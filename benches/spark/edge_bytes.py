#!/usr/bin/env python3
"""Driver memory per edge of neardup.spark's union-find on the driver: the
edges as an Arrow table (as collected from Spark), then the Rust components.

    python benches/spark/edge_bytes.py [EDGES]   (default 10,000,000)

Prints the peak RSS growth (VmHWM, from /proc) per edge, for the table alone
and for the table plus the components call.
"""
import random
import sys


def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main():
    import numpy as np
    import pyarrow as pa
    from neardup._neardup import components

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    base = hwm()
    rng = np.random.default_rng(1)
    # a crawl-like edge set: each edge joins a document to an earlier one
    b = rng.integers(0, 8 * n, n, dtype=np.int64)
    a = b + rng.integers(1, 1000, n, dtype=np.int64)
    table = pa.table({"a": a, "b": b})
    del a, b
    after_table = hwm()
    out = pa.record_batch(components(table))
    after = hwm()
    print(f"{n} edges, {out.num_rows} documents in clusters: "
          f"peak growth {(after - base) / n:.1f} bytes per edge "
          f"(the Arrow table {(after_table - base) / n:.1f}, the union-find and its output "
          f"{(after - after_table) / n:.1f})")


if __name__ == "__main__":
    main()
