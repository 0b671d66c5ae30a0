"""neardup.spark on local[2]: the same clusters as `neardup dedup`, whatever
the partitioning; stages that refuse other parameters; components equal to
union-find; a boilerplate bucket of 100,000 members."""

import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import warnings

import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (python/test.sh installs it)")

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from neardup import spark as nds  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def neardup_bin():
    b = os.environ.get("NEARDUP_BIN") or str(ROOT / "target" / "release" / "neardup")
    if not os.path.exists(b):
        pytest.skip(f"no neardup binary at {b} (cargo build --release, or set NEARDUP_BIN)")
    return b


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("neardup-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _uncache(spark):
    # every dedup persists its numbered and signed rows; drop them between tests
    yield
    spark.catalog.clearCache()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A generated corpus (planted near-duplicates, site boilerplate) with
    the shipped small one in front: (path, rows)."""
    d = tmp_path_factory.mktemp("corpus")
    gen = d / "gen.jsonl"
    subprocess.run([neardup_bin(), "gen", str(DATA / "seed-article.txt"), "--size", "1500K", "-o", str(gen),
                    "--seed", "7"], check=True, capture_output=True)
    lines = (DATA / "small.jsonl").read_text().splitlines() + gen.read_text().splitlines()
    rows = []
    for n, line in enumerate(lines):
        r = json.loads(line)
        rows.append((str(r.get("id", f"line{n}")), r["text"]))
    path = d / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows))
    return path, rows


def cli_clusters(path, *args, cluster="components"):
    """The command line's clusters (connected components unless `cluster`
    says otherwise)."""
    out = pathlib.Path(str(path) + ".clusters.jsonl")
    subprocess.run([neardup_bin(), "dedup", str(path), "--clusters", str(out), "-q", "--cluster", cluster,
                    *args], check=True,
                   capture_output=True)
    return [(r["id"], r["cluster"], r["similarity"]) for r in map(json.loads, out.read_text().splitlines())]


def frame(spark, rows, partitions):
    schema = T.StructType([T.StructField("id", T.StringType()), T.StructField("text", T.StringType())])
    # parallelize slices in order, so the DataFrame's order is the rows'
    return spark.createDataFrame(spark.sparkContext.parallelize(rows, partitions), schema)


def spark_clusters(df, **kw):
    kw.setdefault("cluster", "components")
    return [(r["id"], r["cluster"], r["similarity"]) for r in nds.dedup(df, **kw).collect()]


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_dedup_gives_the_clusters_of_the_command_line(spark, corpus, partitions):
    path, rows = corpus
    want = cli_clusters(path)
    assert sum(1 for i, c, _ in want if i != c) > 50, "the corpus has near-duplicates to find"
    got = spark_clusters(frame(spark, rows, partitions))
    assert got == want


@pytest.mark.parametrize("partitions,verify", [(1, "estimate"), (3, "estimate"), (2, "exact")])
def test_star_clusters_are_the_command_lines(spark, corpus, partitions, verify):
    path, rows = corpus
    want = cli_clusters(path, "--verify", verify, cluster="star")
    if verify == "estimate":
        assert want != cli_clusters(path), "star clusters differ from components on this corpus"
    got = spark_clusters(frame(spark, rows, partitions), verify=verify, cluster="star")
    assert got == want


def test_exact_verification_gives_the_clusters_of_the_command_line(spark, corpus):
    path, rows = corpus
    want = cli_clusters(path, "--verify", "exact")
    got = spark_clusters(frame(spark, rows, 3), verify="exact")
    assert got == want


def test_other_parameters_give_the_command_line_clusters_too(spark, corpus):
    path, rows = corpus
    want = cli_clusters(path, "--threshold", "0.7", "--num-perm", "64", "--ngram", "3")
    got = spark_clusters(frame(spark, rows, 2), threshold=0.7, num_perm=64, ngram=3)
    assert got == want


def test_signatures_from_other_parameters_are_refused(spark, corpus):
    _, rows = corpus
    df = frame(spark, rows[:200], 2)
    signed = nds.sign(df, threshold=0.8)
    other = nds.sign(df, threshold=0.7)
    assert signed.fingerprint != other.fingerprint
    mixed = nds.Signed(docs=signed.docs, texts=signed.texts, params=other.params, fingerprint=other.fingerprint)
    with pytest.raises(Exception, match="other parameters"):
        nds.link(mixed).count()


def test_filter_keeps_representatives_with_every_column(spark, corpus):
    path, rows = corpus
    schema = T.StructType([T.StructField("id", T.StringType()), T.StructField("text", T.StringType()),
                           T.StructField("n", T.LongType())])
    df = spark.createDataFrame(spark.sparkContext.parallelize(
        [(i, t, n) for n, (i, t) in enumerate(rows)], 3), schema)
    clusters = nds.dedup(df)
    kept = nds.filter(df, clusters).orderBy("n").collect()
    want = [(i, n) for n, (i, c, _) in enumerate(cli_clusters(path)) if i == c]
    assert [(r["id"], r["n"]) for r in kept] == want
    assert kept[0]["text"] == rows[0][1]


def test_null_text_is_a_bad_record_kept_as_its_own_cluster(spark):
    text = "one two three four five six seven eight nine ten eleven twelve"
    df = frame(spark, [("a", text), ("b", None), ("c", text)], 2)
    with pytest.warns(nds.BadRecordsWarning, match="1 rows have a null text"):
        got = spark_clusters(df)
    assert got == [("a", "a", 1.0), ("b", "b", None), ("c", "a", 1.0)]
    with pytest.raises(ValueError, match="null text"):
        nds.dedup(df, strict=True)


def test_wrong_columns_are_named(spark):
    df = spark.createDataFrame([("a", 1)], "id string, body int")
    with pytest.raises(ValueError, match="no column 'text'"):
        nds.dedup(df)
    with pytest.raises(ValueError, match="'body' is int, not a string"):
        nds.dedup(df, text_col="body")
    with pytest.raises(ValueError, match="no column 'key'"):
        nds.dedup(df.withColumnRenamed("body", "text").selectExpr("id", "cast(text as string) text"), id_col="key")
    with pytest.raises(ValueError, match="threshold"):
        nds.dedup(spark.createDataFrame([("a", "x")], "id string, text string"), threshold=1.5)


def union_find(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return sorted((x, find(x)) for x in parent)


def graphs():
    rng = random.Random(3)
    path = [(i, i + 1) for i in range(0, 200)]
    rng.shuffle(path)
    star = [(1000, 1000 + i) for i in range(1, 200)]
    rand = [(rng.randrange(300), rng.randrange(300)) for _ in range(250)]
    rand = [(a + 5000, b + 5000) for a, b in rand if a != b]
    two_paths = [(10**12 + i, 10**12 + i + 2) for i in range(100)]
    return {"path": path, "star": star, "random": rand, "two_paths": two_paths,
            "all": path + star + rand + two_paths}


@pytest.mark.parametrize("name", ["path", "star", "random", "two_paths", "all"])
def test_star_rounds_and_driver_union_find_equal_union_find(spark, name):
    edges = graphs()[name]
    df = spark.createDataFrame(edges, "a long, b long")
    want = union_find(edges)
    stars = nds._star_components(df)
    assert sorted((r["doc_id"], r["cluster_id"]) for r in stars.collect()) == want
    driver = nds.components(df)
    assert sorted((r["doc_id"], r["cluster_id"]) for r in driver.collect()) == want
    forced = nds.components(df, driver_edges=0)
    assert sorted((r["doc_id"], r["cluster_id"]) for r in forced.collect()) == want


def test_a_boilerplate_bucket_of_100000_members(spark, tmp_path):
    # one licence text shared by 100,000 documents, another by 2,000: every
    # band has a bucket of 100,000 members, streamed through the pivot walk,
    # never held as a list (long enough texts that copies are surely alike:
    # the walk then pairs each member with its first pivot only)
    a = " ".join(f"licence clause{j} of the terms and conditions" for j in range(45))
    b = " ".join(f"cookie notice {j} about your privacy settings here" for j in range(45))
    rows = [(f"d{n}", b if n % 51 == 7 else a) for n in range(102_000)]
    path = tmp_path / "boiler.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows))
    want = cli_clusters(path, "--num-perm", "64")
    got = spark_clusters(frame(spark, rows, 4), num_perm=64)
    assert got == want
    assert sum(1 for _, c, _ in got if c == "d0") == 100_000
    assert sum(1 for _, c, _ in got if c == "d7") == 2_000
