"""Python call overhead of neardup.Index against the same calls inside Rust.

    python python/bench/overhead.py CORPUS.jsonl [--docs 100000] [--calls 20000]

Builds an index of DOCS pages of about 5 KB (paragraphs of CORPUS strung
together, as benches/common's Pages does), then inserts CALLS fresh pages two
ways, alternating in blocks so both see the same index size: timed in Python
around `index.insert(id, text)`, and timed inside Rust by
`index._timed_insert_many`. Prints p50/p99 of each and the overhead.
"""

import argparse
import json
import random
import statistics
import time

import neardup


def paragraphs(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                text = json.loads(line)["text"]
            except (ValueError, KeyError, TypeError):
                continue
            for p in text.split("\n\n"):
                p = p.strip()
                if len(p.split()) >= 5:
                    out.append(p)
    return out


def pages(paras, rng, n):
    for _ in range(n):
        parts, size = [], 0
        while size < 5000:
            p = paras[rng.randrange(len(paras))]
            parts.append(p)
            size += len(p) + 2
        yield "\n\n".join(parts)


def pct(ns, q):
    ns = sorted(ns)
    return ns[int((len(ns) - 1) * q)] / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=20_000)
    args = ap.parse_args()
    rng = random.Random(7)
    paras = paragraphs(args.corpus)
    index = neardup.Index()
    t = time.perf_counter()
    chunk = []
    for i, page in enumerate(pages(paras, rng, args.docs)):
        chunk.append((f"p{i}", page))
        if len(chunk) == 10_000:
            index.insert_many(chunk)
            chunk = []
    index.insert_many(chunk)
    print(f"{len(index)} pages indexed in {time.perf_counter() - t:.1f} s")
    fresh = list(pages(paras, rng, args.calls))
    py_ns, rust_ns = [], []
    block = 500
    for b in range(0, args.calls, 2 * block):
        for i in range(b, min(b + block, args.calls)):
            t0 = time.perf_counter_ns()
            index.insert(f"py{i}", fresh[i])
            py_ns.append(time.perf_counter_ns() - t0)
        rest = [(f"rs{i}", fresh[i]) for i in range(b + block, min(b + 2 * block, args.calls))]
        rust_ns.extend(index._timed_insert_many(rest))
    for name, ns in (("python insert", py_ns), ("rust insert", rust_ns)):
        print(f"{name:14} p50 {pct(ns, 0.5):7.1f} µs  p99 {pct(ns, 0.99):7.1f} µs  "
              f"mean {statistics.mean(ns) / 1e3:7.1f} µs  ({len(ns)} calls)")
    over = pct(py_ns, 0.5) / pct(rust_ns, 0.5) - 1
    print(f"python overhead at p50: {over * 100:.1f}% ({pct(py_ns, 0.5) - pct(rust_ns, 0.5):.2f} µs)")


if __name__ == "__main__":
    main()
