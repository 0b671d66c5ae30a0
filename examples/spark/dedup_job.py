"""Deduplicate a Parquet or JSONL corpus on a Spark cluster with neardup.

    spark-submit --archives neardup-env.tar.gz#env \
        --conf spark.pyspark.python=./env/bin/python \
        examples/spark/dedup_job.py INPUT OUTPUT [--text-col text] [--id-col id] [--threshold 0.8]

Writes OUTPUT/clusters (id, cluster, similarity) and OUTPUT/kept (the kept
rows, every column), both Parquet. See examples/spark/README.md for how the
neardup wheel reaches the executors.
"""

import argparse

from pyspark.sql import SparkSession

from neardup import spark as nds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="a Parquet directory or file, or JSONL (by extension)")
    ap.add_argument("output")
    ap.add_argument("--text-col", default="text")
    ap.add_argument("--id-col", default="id")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--verify", choices=["estimate", "exact"], default="estimate")
    args = ap.parse_args()

    spark = SparkSession.builder.appName("neardup-dedup").getOrCreate()
    reader = spark.read
    df = reader.json(args.input) if args.input.endswith((".jsonl", ".json", ".jsonl.gz")) else reader.parquet(args.input)
    clusters = nds.dedup(df, text_col=args.text_col, id_col=args.id_col, threshold=args.threshold,
                         num_perm=args.num_perm, verify=args.verify)
    clusters = clusters.cache()
    clusters.write.mode("overwrite").parquet(f"{args.output}/clusters")
    nds.filter(df, clusters, id_col=args.id_col).write.mode("overwrite").parquet(f"{args.output}/kept")
    removed = clusters.where("id != cluster").count()
    print(f"neardup: {clusters.count()} rows, {removed} removed as near-duplicates")
    spark.stop()


if __name__ == "__main__":
    main()
