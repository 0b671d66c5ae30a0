#!/usr/bin/env python3
"""Document recall and precision per language, against exact truth.

    python3 benches/multilingual/run.py CORPUS [--bin target/release/neardup] [--also OTHER_BIN]
        [--min 0.99] [-- EXTRA DEDUP FLAGS]

CORPUS is what build.py writes (records with a "lang" field). Runs `neardup
truth` (exact Jaccard of every pair at or above 0.8, with --bin's
tokenizer), `neardup dedup --cluster components` and `neardup dedup` (star
clusters, the default), then per language:
- documents, true pairs, documents with a true partner;
- components: document precision (of the documents put in a cluster with
  another, those with a true partner) and recall (of the documents with a
  true partner, those put in a cluster with another);
- star: documents removed, removed documents not alike (below the threshold
  to) the one kept for them, and true pairs left with both documents kept.
  Document recall is not the measure of star clusters: of a chain A~B~C
  with A and C apart, star keeps A and C (C is not alike A) and removes B.
--also scores another build's components against the same truth (an
earlier tokenizer, say). Prints a Markdown table; with --min, exits 1 when a
language with true pairs has components precision or recall below it, or
star removed a document not alike its kept one.
"""
import argparse
import collections
import json
import subprocess
import sys
import tempfile


def labels(path):
    label = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            label[r["id"]] = r["cluster"]
    return label


def clustered(label):
    size = collections.Counter(label.values())
    return {i: size[c] > 1 for i, c in label.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--bin", default="target/release/neardup")
    ap.add_argument("--also", help="another neardup binary, scored against the same truth")
    ap.add_argument("--min", type=float)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    lang = {}
    with open(a.corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            lang[r["id"]] = r["lang"]
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.bin, "truth", a.corpus, "-o", f"{d}/truth.jsonl"], check=True, capture_output=True)
        partner, pairs, alike = set(), collections.Counter(), set()
        with open(f"{d}/truth.jsonl") as f:
            for line in f:
                r = json.loads(line)
                partner.update((r["a"], r["b"]))
                alike.update([(r["a"], r["b"]), (r["b"], r["a"])])
                pairs[lang[r["a"]]] += 1
        runs = {}
        for name, binary in [("this", a.bin)] + ([("also", a.also)] if a.also else []):
            subprocess.run([binary, "dedup", a.corpus, "--cluster", "components", "--clusters",
                            f"{d}/{name}.jsonl", "-q", *a.extra], check=True)
            runs[name] = clustered(labels(f"{d}/{name}.jsonl"))
        subprocess.run([a.bin, "dedup", a.corpus, "--clusters", f"{d}/star.jsonl", "-q", *a.extra], check=True)
        star = labels(f"{d}/star.jsonl")
    cols = ["lang", "docs", "true pairs", "docs with a partner", "doc precision", "doc recall",
            "star: removed", "removed not alike kept", "true pairs both kept"]
    if a.also:
        cols += ["other build: precision", "other build: recall"]
    kept = {i for i, c in star.items() if i == c}
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    failed = []
    for lg in sorted(set(lang.values()), key=lambda x: (-sum(1 for v in lang.values() if v == x), x)):
        ids = [i for i, v in lang.items() if v == lg]
        truly = {i for i in ids if i in partner}
        row = [lg, len(ids), pairs[lg], len(truly)]
        for name in runs:
            dup = {i for i in ids if runs[name].get(i)}
            p = len(dup & truly) / len(dup) if dup else 1.0
            r = len(dup & truly) / len(truly) if truly else 1.0
            row += [f"{p:.4f}", f"{r:.4f}"]
            if name == "this":
                if a.min is not None and truly and min(p, r) < a.min:
                    failed.append(lg)
                removed = [i for i in ids if star[i] != i]
                apart = sum((i, star[i]) not in alike for i in removed)
                both = sum(1 for x, y in alike if x < y and lang[x] == lg and x in kept and y in kept)
                row += [len(removed), apart, both]
                if a.min is not None and apart:
                    failed.append(lg)
        print("| " + " | ".join(str(x) for x in row) + " |")
    if failed:
        print(f"below {a.min}: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
