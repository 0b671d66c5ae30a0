#!/usr/bin/env python3
"""neardup.spark against `neardup dedup` on the same corpus and machine.

    python benches/spark/run.py CORPUS.jsonl [--master local-cluster[2,1,2048]] [--bin target/release/neardup]

Runs the stages one at a time (each materialized and persisted, so that its
time is its own): sign, candidates, link (judge + settle), components,
clusters (similarities, ids, written as Parquet). Reports per stage the wall
time and the shuffle bytes written (Spark's REST API on the driver's UI
port, local only), and the peak RSS of the driver JVM, the executor JVMs and
the Python workers (a sampler over `ps`). Then `neardup dedup` and `neardup
sign` on the same file, and checks that the clusters are the command line's.
Prints a JSON report (also written beside the corpus as CORPUS.spark.json).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def sample_rss(stop, peaks):
    """Peak RSS (bytes) per kind of process, every 0.2 s."""
    me = os.getpid()
    while not stop.is_set():
        out = subprocess.run(["ps", "-eo", "pid,rss,args"], capture_output=True, text=True).stdout
        now = {"driver_jvm": 0, "executor_jvms": 0, "python_workers": 0}
        for line in out.splitlines()[1:]:
            pid, rss, args = line.split(None, 2)
            rss = int(rss) * 1024
            if int(pid) == me:
                peaks["driver_python"] = max(peaks.get("driver_python", 0), rss)
            elif "java" in args and "CoarseGrainedExecutorBackend" in args:
                now["executor_jvms"] += rss
            elif "java" in args and "org.apache.spark.deploy.SparkSubmit" in args:
                now["driver_jvm"] += rss
            elif "pyspark.daemon" in args or "pyspark/daemon.py" in args or "pyspark.worker" in args:
                now["python_workers"] += rss
        for k, v in now.items():
            peaks[k] = max(peaks.get(k, 0), v)
        stop.wait(0.2)


def shuffle_written(ui):
    """Shuffle bytes written by every stage so far (the driver's REST API)."""
    apps = json.load(urllib.request.urlopen(f"{ui}/api/v1/applications"))
    stages = json.load(urllib.request.urlopen(f"{ui}/api/v1/applications/{apps[0]['id']}/stages"))
    return sum(s.get("shuffleWriteBytes", 0) for s in stages)


def timed(cmd):
    t = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, check=True)
    return time.time() - t, int(r.stderr.strip().splitlines()[-1]) * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("--master", default="local-cluster[2,1,2048]")
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "neardup"))
    ap.add_argument("--executor-memory", default="1536m", help="heap of each executor JVM (the workers of "
                    "local-cluster[2,1,2048] have 2048 MB)")
    ap.add_argument("--arrow-batch", type=int, default=10000, help="rows per Arrow batch to the Python workers")
    ap.add_argument("--partitions", type=int, default=0, help="shuffle partitions (default: 4 per core)")
    args = ap.parse_args()

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from neardup import spark as nds

    cores = 2
    parts = args.partitions or 4 * cores
    spark = (
        SparkSession.builder.master(args.master).appName("neardup-bench")
        .config("spark.ui.port", "4077").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1").config("spark.sql.shuffle.partitions", str(parts))
        .config("spark.driver.memory", "4g").config("spark.executor.memory", args.executor_memory).config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(args.arrow_batch))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    ui = spark.sparkContext.uiWebUrl.replace(spark.sparkContext.uiWebUrl.split(":")[1].lstrip("/"), "127.0.0.1")
    peaks, stop = {}, threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(stop, peaks), daemon=True)
    sampler.start()
    size = os.path.getsize(args.corpus)
    report = {"corpus": args.corpus, "bytes": size, "master": args.master, "shuffle_partitions": parts,
              "spark": spark.version, "stages": {}}
    df = spark.read.schema("id string, text string").json(args.corpus)

    def stage(name, make, count=True):
        before = shuffle_written(ui)
        t = time.time()
        out = make()
        n = out.count() if count else None
        report["stages"][name] = {"seconds": round(time.time() - t, 2), "rows": n,
                                  "shuffle_write_bytes": shuffle_written(ui) - before}
        print(name, report["stages"][name], flush=True)
        return out

    # read alone: the baseline of sign's cost in Spark
    stage("read", lambda: df.select(F.length("text").alias("n")).where("n >= 0"))
    signed = nds.sign(df)
    stage("sign", lambda: signed.docs)
    cands = stage("candidates", lambda: nds.candidates(signed).persist())
    edges = stage("link", lambda: nds.link(signed, cands).persist())
    comps = stage("components", lambda: nds.components(edges).persist())
    out_dir = tempfile.mkdtemp(prefix="neardup-spark-")

    def write():
        nds.clusters(signed, comps).write.mode("overwrite").parquet(out_dir + "/clusters")
        return spark.read.parquet(out_dir + "/clusters")

    got = stage("clusters", write)
    report["spark_seconds"] = round(sum(s["seconds"] for k, s in report["stages"].items() if k != "read"), 2)
    report["spark_mb_per_s"] = round(size / 1e6 / report["spark_seconds"], 1)
    stop.set()
    sampler.join()
    report["peak_rss_bytes"] = peaks
    rows = {r["id"]: (r["cluster"], r["similarity"]) for r in got.collect()}
    spark.stop()

    with tempfile.TemporaryDirectory() as d:
        secs, rss = timed([args.bin, "dedup", args.corpus, "--clusters", f"{d}/c.jsonl", "-q", "--cluster", "components"])
        report["cli_dedup"] = {"seconds": round(secs, 2), "peak_rss_bytes": rss, "mb_per_s": round(size / 1e6 / secs, 1)}
        want = {}
        with open(f"{d}/c.jsonl") as f:
            for line in f:
                r = json.loads(line)
                want[r["id"]] = (r["cluster"], r["similarity"])
        report["same_clusters_as_cli"] = rows == want
        report["documents"] = len(want)
        report["removed"] = sum(1 for i, (c, _) in want.items() if i != c)
        secs, rss = timed([args.bin, "sign", args.corpus, "-o", f"{d}/signed", "-q"])
        report["cli_sign"] = {"seconds": round(secs, 2), "peak_rss_bytes": rss, "mb_per_s": round(size / 1e6 / secs, 1)}
    sign_only = report["stages"]["sign"]["seconds"] - report["stages"]["read"]["seconds"]
    report["spark_sign_mb_per_s_beyond_reading"] = round(size / 1e6 / max(sign_only, 1e-9), 1)
    print(json.dumps(report, indent=1))
    with open(args.corpus + ".spark.json", "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
