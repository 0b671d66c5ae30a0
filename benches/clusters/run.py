#!/usr/bin/env python3
"""Star clusters against connected components on one corpus.

    python3 benches/clusters/run.py CORPUS [--bin target/release/neardup] [--runs 3] [-- EXTRA DEDUP FLAGS]

Runs `neardup truth` once (exact Jaccard of every pair at or above the
threshold), then `neardup dedup --cluster star|components` (median wall time
of --runs), scores each against the truth (`neardup score`) and counts the
removed documents whose exact Jaccard to their kept representative is below
the threshold (a removed document that is not in a truth pair with its
representative). Prints one JSON object.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--bin", default="target/release/neardup")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threshold", default="0.8")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    out = {"corpus": a.corpus, "bytes": os.path.getsize(a.corpus), "threshold": float(a.threshold)}
    with tempfile.TemporaryDirectory() as d:
        truth = f"{d}/truth.jsonl"
        t = time.time()
        subprocess.run([a.bin, "truth", a.corpus, "-o", truth, "--threshold", a.threshold], check=True,
                       capture_output=True)
        out["truth_seconds"] = round(time.time() - t, 2)
        alike = set()
        with open(truth) as f:
            for line in f:
                r = json.loads(line)
                alike.add((r["a"], r["b"]))
                alike.add((r["b"], r["a"]))
        out["truth_pairs"] = len(alike) // 2
        for mode in ["star", "components"]:
            cl = f"{d}/{mode}.jsonl"
            summary = f"{d}/{mode}.summary.json"
            times = []
            for _ in range(a.runs):
                t = time.time()
                subprocess.run([a.bin, "dedup", a.corpus, "--cluster", mode, "--threshold", a.threshold,
                                "--clusters", cl, "--summary-json", summary, "-q", *a.extra], check=True)
                times.append(time.time() - t)
            s = json.load(open(summary))
            score = json.loads(subprocess.run([a.bin, "score", "--clusters", cl, "--truth", truth, "--json"],
                                              check=True, capture_output=True).stdout)
            removed = below = 0
            with open(cl) as f:
                for line in f:
                    r = json.loads(line)
                    if r["id"] != r["cluster"]:
                        removed += 1
                        below += (r["id"], r["cluster"]) not in alike
            out[mode] = {
                "seconds_median": round(statistics.median(times), 3),
                "seconds": [round(x, 3) for x in times],
                "removed": removed,
                "removed_below_threshold_to_kept": below,
                "clusters": s["clusters"],
                "largest_cluster": s["largest_cluster"],
                "chained_clusters": s["chained_clusters"],
                "split_components": s.get("split_components"),
                "star_rounds": s.get("star_rounds"),
                "exact_checks": s["exact_checks"],
                "cluster_seconds": round(s["seconds"]["cluster"], 3),
                **{k: score[k] for k in score if k.endswith(("precision", "recall", "f1"))},
            }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
