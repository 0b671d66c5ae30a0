#!/usr/bin/env python3
"""Run neardup and its peers on the same corpus, same shingles, same threshold
and sketch size; print one table of speed and quality.

Usage:
  python3 benches/compare/compare.py CORPUS.jsonl [--threshold 0.8] [--num-perm 128]
      [--peers rensa,datasketch,gaoya] [--runs 3] [--neardup target/release/neardup]

Each tool runs in its own process (so peak RSS is its own), reads the JSONL
itself, tokenizes, shingles, sketches, runs its LSH, verifies candidates with
its own estimate and clusters with union-find (representative = first in
input order), then writes clusters JSONL. Quality is scored by
`neardup score` against `neardup truth` (exact Jaccard of the same shingles).
See README.md beside this file.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata

NONWORD = re.compile(r"[^\w\s]")


def tokens(text):
    """neardup's default tokenization: NFKC, lowercase, delete characters
    that are neither word characters nor whitespace, split on whitespace."""
    return NONWORD.sub("", unicodedata.normalize("NFKC", text).lower()).split()


def shingles(text, n):
    t = tokens(text)
    if not t:
        return []
    if len(t) < n:
        return [" ".join(t)]
    return [" ".join(t[i:i + n]) for i in range(len(t) - n + 1)]


def read_corpus(path):
    import orjson
    ids, texts = [], []
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            d = orjson.loads(line)
            ids.append(str(d["id"]))
            texts.append(d["text"])
    return ids, texts


def cluster_and_write(ids, pairs, out_path):
    parent = list(range(len(ids)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    rep = {}
    with open(out_path, "w") as out:
        for i in range(len(ids)):
            r = find(i)
            first = rep.setdefault(r, i)
            out.write(json.dumps({"id": ids[i], "cluster": ids[first], "similarity": 1.0}) + "\n")


def sketch_query_verify(texts, args, lsh, sketch):
    """The usual MinHash-LSH loop: sketch every document with `sketch(shingles)`
    and insert it into `lsh`, then query each and keep the earlier candidates
    whose estimated Jaccard reaches the threshold."""
    sigs = []
    for i, t in enumerate(texts):
        sh = shingles(t, args.ngram)
        m = sketch(sh) if sh else None
        if m is not None:
            lsh.insert(i, m)
        sigs.append(m)
    pairs = []
    for i, m in enumerate(sigs):
        if m is None:
            continue
        for j in lsh.query(m):
            if j < i and sigs[j].jaccard(m) >= args.threshold:
                pairs.append((j, i))
    return pairs


def run_datasketch(ids, texts, args):
    from datasketch import MinHash, MinHashLSH

    def sketch(sh):
        m = MinHash(num_perm=args.num_perm)
        m.update_batch([s.encode() for s in sh])
        return m

    return sketch_query_verify(texts, args, MinHashLSH(threshold=args.threshold, num_perm=args.num_perm), sketch)


def run_rensa(ids, texts, args):
    from rensa import RMinHash, RMinHashLSH
    bands = 16 if args.num_perm % 16 == 0 else 8

    def sketch(sh):
        m = RMinHash(num_perm=args.num_perm, seed=42)
        m.update(sh)
        return m

    lsh = RMinHashLSH(threshold=args.threshold, num_perm=args.num_perm, num_bands=bands)
    return sketch_query_verify(texts, args, lsh, sketch)


def run_gaoya(ids, texts, args):
    from gaoya.minhash import MinHashStringIndex
    # gaoya tokenizes itself; hand it the normalized tokens joined by spaces
    # so that its word 5-grams are ours
    b, r = 16, args.num_perm // 16
    index = MinHashStringIndex(hash_size=32, jaccard_threshold=args.threshold, num_bands=b, band_size=r,
                               num_hashes=b * r, analyzer="word", lowercase=False, ngram_range=(args.ngram, args.ngram))
    norm = [" ".join(tokens(t)) for t in texts]
    index.par_bulk_insert_docs(list(range(len(norm))), norm)
    pairs = []
    for i, t in enumerate(norm):
        if not t:
            continue
        for j in index.query(t):
            if j < i:
                pairs.append((j, i))
    return pairs


def run_datatrove(ids, texts, args):
    """datatrove's MinHash pipeline (signatures, buckets, clusters), on the
    normalized tokens joined by spaces so that its word 5-grams are ours. Its
    LSH collisions are its duplicates (it does not verify)."""
    import struct
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupSignature)
    from datatrove.utils.hashing import HashConfig
    import datatrove.utils.hashes.xxhash as dx
    # datatrove passes str to xxhash, which since xxhash 4 wants bytes
    for name in ("xxhash32", "xxhash64"):
        orig = getattr(dx, name)
        setattr(dx, name, lambda s, _f=orig: _f(s.encode() if isinstance(s, str) else s))
    work = tempfile.mkdtemp(prefix="datatrove-")
    bands = 16 if args.num_perm % 16 == 0 else 8
    cfg = MinhashConfig(n_grams=args.ngram, num_buckets=bands, hashes_per_bucket=args.num_perm // bands,
                        hash_config=HashConfig(precision=64))
    docs = [Document(text=" ".join(tokens(t)), id=str(i)) for i, t in enumerate(texts)]
    stages = ([docs, MinhashDedupSignature(output_folder=work + "/sigs", config=cfg)],
              [MinhashDedupBuckets(input_folder=work + "/sigs", output_folder=work + "/buckets", config=cfg)],
              [MinhashDedupCluster(input_folder=work + "/buckets", output_folder=work + "/clusters", config=cfg,
                                   save_cluster_id=True)])
    for n, step in enumerate(stages):
        # one logging folder per stage: datatrove skips tasks a folder records as done
        tasks = cfg.num_buckets if n == 1 else 1
        LocalPipelineExecutor(pipeline=step, tasks=tasks, workers=1, logging_dir="%s/logs%d" % (work, n)).run()
    label = {}
    path = work + "/clusters/000000.clusters"
    if os.path.exists(path):
        raw = open(path, "rb").read()
        for doc, cid in struct.iter_unpack("<II", raw):
            label[doc] = cid
    first = {}
    pairs = []
    for i in range(len(ids)):
        if i in label:
            f = first.setdefault(label[i], i)
            if f != i:
                pairs.append((f, i))
    return pairs


PEERS = {"datasketch": run_datasketch, "rensa": run_rensa, "gaoya": run_gaoya, "datatrove": run_datatrove}


def peer_main(args):
    t0 = time.perf_counter()
    ids, texts = read_corpus(args.corpus)
    pairs = PEERS[args.run_peer](ids, texts, args)
    cluster_and_write(ids, pairs, args.out)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def timed(cmd):
    """Run cmd; return (wall seconds, peak RSS bytes, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.stdout.read(), p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError("%s failed: %s" % (cmd[:3], err.decode(errors="replace")[-2000:]))
    return wall, ru.ru_maxrss * 1024, out


def score(neardup, clusters, truth, threshold):
    out = subprocess.run([neardup, "score", "--clusters", clusters, "--truth", truth, "--threshold", str(threshold),
                          "--json"], check=True, capture_output=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--peers", default="rensa,datasketch,gaoya,datatrove")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--neardup", default="target/release/neardup")
    ap.add_argument("--run-peer")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.run_peer:
        return peer_main(args)

    size = os.path.getsize(args.corpus)
    tmp = tempfile.mkdtemp(prefix="neardup-compare-")
    truth = os.path.join(tmp, "truth.jsonl")
    subprocess.run([args.neardup, "truth", args.corpus, "--threshold", str(args.threshold), "--ngram", str(args.ngram),
                    "-o", truth], check=True, capture_output=True)
    rows = []

    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2]

    for threads in (1, 2):
        out = os.path.join(tmp, "neardup-%d.jsonl" % threads)
        runs = [timed([args.neardup, "dedup", args.corpus, "--threshold", str(args.threshold), "--ngram",
                       str(args.ngram), "--num-perm", str(args.num_perm), "--threads", str(threads),
                       "--clusters", out, "-q"]) for _ in range(args.runs)]
        rows.append(("neardup (%d thread%s)" % (threads, "s" if threads > 1 else ""), median([r[0] for r in runs]),
                     max(r[1] for r in runs), score(args.neardup, out, truth, args.threshold)))
    for name in [p for p in args.peers.split(",") if p]:
        out = os.path.join(tmp, name + ".jsonl")
        try:
            runs = [timed([sys.executable, os.path.abspath(__file__), args.corpus, "--run-peer", name, "--out", out,
                           "--threshold", str(args.threshold), "--num-perm", str(args.num_perm), "--ngram",
                           str(args.ngram)]) for _ in range(max(1, args.runs // 3))]
        except Exception as e:  # a peer that fails is reported, not hidden
            rows.append((name, None, None, str(e).splitlines()[0][:100]))
            continue
        rows.append((name, median([r[0] for r in runs]), max(r[1] for r in runs), score(args.neardup, out, truth,
                                                                                          args.threshold)))
    base = rows[0][1]
    print("corpus %s: %.1f MB; threshold %s, word %d-grams, %d slots; machine: %d cores"
          % (args.corpus, size / 1e6, args.threshold, args.ngram, args.num_perm, os.cpu_count()))
    print("| tool | seconds | MB/s | neardup (1 thread) is x faster | peak RSS MB | pair P/R/F1 | closure P/R/F1 "
          "| doc P/R |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for name, secs, rss, s in rows:
        if secs is None:
            print("| %s | failed: %s | | | | | | |" % (name, s))
            continue
        print("| %s | %.2f | %.1f | %.1f | %.0f | %.3f / %.3f / %.3f | %.3f / %.3f / %.3f | %.4f / %.4f |" % (
            name, secs, size / 1e6 / secs, secs / base, rss / 1e6,
            s["pair_precision"], s["pair_recall"], s["pair_f1"],
            s["closure_precision"], s["closure_recall"], s["closure_f1"], s["doc_precision"], s["doc_recall"]))


if __name__ == "__main__":
    main()
