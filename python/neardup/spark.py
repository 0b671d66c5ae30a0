"""neardup on Spark: the Rust core does every byte of work inside the Python
workers; Spark schedules, retries and shuffles. No JVM code of ours, so the
same module runs on Spark 3.5 and 4.x.

    from neardup import spark as nds
    clusters = nds.dedup(df, text_col="text", id_col="id", threshold=0.8)
    kept = nds.filter(df, clusters, id_col="id")

The stages, on the contracts of the command-line stages (``neardup sign``,
``link``, ``components``, ``filter``):

1. ``sign``: ``mapInArrow`` hands Arrow batches to the Rust signer (GIL
   released); every document gets a stable number, ``doc_id``, that orders
   documents as the DataFrame does; its signature carries the parameters'
   fingerprint, checked by every later step.
2. ``link``: the shuffle on ``(band_id, band_hash)``. A bucket of at most 64
   members gives all its pairs (a self-join); a larger one is streamed in
   ``doc_id`` order through the pivot walk of ``dedup`` (never held as a
   list, so a boilerplate bucket of a million documents costs a million
   checks). Candidates are judged from their signatures as ``dedup`` judges
   them, and the doubtful ones (or all, with ``verify="exact"``) are settled
   by exact Jaccard of their texts.
3. ``components``: Rust union-find on the driver when the edges fit
   (``driver_edges``), else large-star / small-star rounds in DataFrame code
   with checkpoints.
4. ``filter``: an anti-join on the removed ids.

The result is the one ``neardup dedup --clusters`` gives for the same rows in
the same order: the representative of a cluster is its first row in the
DataFrame's order, and the similarity is to it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional

from neardup import BadRecordsWarning

__all__ = ["dedup", "filter", "sign", "candidates", "link", "components", "clusters", "Signed", "SUPPORTED_SPARK", "BadRecordsWarning"]

#: Spark versions this module is tested with (major, minor), inclusive.
SUPPORTED_SPARK = ((3, 5), (4, 1))
_MIN_PYARROW = (14, 0)

#: Edges collected to the driver for union-find at most: about 90 bytes per
#: edge at its peak there (``benches/spark/edge_bytes.py``: 89.5 for 10 M
#: edges), so 4.5 GB of driver memory at this default; above, star rounds
#: in Spark.
DRIVER_EDGES = 50_000_000

_PARAM_NAMES = ("threshold", "ngram", "num_perm", "char_ngram", "seed", "sketch", "verify", "bands", "rows")


def _version(s: str):
    out = []
    for part in s.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


def _check_versions(spark) -> None:
    import pyarrow

    if _version(pyarrow.__version__) < _MIN_PYARROW:
        raise RuntimeError(
            f"neardup.spark needs pyarrow >= {'.'.join(map(str, _MIN_PYARROW))} (the Arrow PyCapsule "
            f"interface); this is pyarrow {pyarrow.__version__}"
        )
    v = _version(spark.version)
    lo, hi = SUPPORTED_SPARK
    if not (lo <= v and v[0] <= hi[0]):
        raise RuntimeError(
            f"neardup.spark supports Spark {lo[0]}.{lo[1]} to {hi[0]}.x; this is Spark {spark.version}"
        )


def _params(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows) -> Dict[str, Any]:
    p = dict(threshold=threshold, ngram=ngram, num_perm=num_perm, char_ngram=char_ngram, seed=seed,
             sketch=sketch, verify=verify, bands=bands, rows=rows)
    # validated here, on the driver, with the core's own checks
    _kernel(p, 1)
    return p


_KERNELS: Dict[str, Any] = {}


def _kernel(params: Dict[str, Any], threads: Optional[int] = 1):
    """The core's steps for `params`, one per worker process and parameters."""
    from neardup._neardup import Kernel

    key = json.dumps([params, threads], sort_keys=True)
    k = _KERNELS.get(key)
    if k is None:
        k = _KERNELS[key] = Kernel(**params, threads=threads)
    return k


def _batch(obj):
    import pyarrow as pa

    return pa.record_batch(obj)


@dataclass
class Signed:
    """What ``sign`` gives: ``docs`` (``doc_id``, ``id``, ``samples``,
    ``signature``, ``bands``; ``samples`` is -1 for a row whose text is
    null), ``texts`` (``doc_id``, ``text``), the parameters and their
    fingerprint."""

    docs: Any
    texts: Any
    params: Dict[str, Any]
    fingerprint: str
    threads: Optional[int] = 1


def sign(df, text_col: str = "text", id_col: Optional[str] = "id", threshold: float = 0.8, ngram: int = 5,
         num_perm: int = 128, *, char_ngram: Optional[int] = None, seed: int = 0, sketch: str = "oph",
         verify: str = "estimate", bands: Optional[int] = None, rows: Optional[int] = None,
         threads: Optional[int] = 1, persist: bool = True) -> Signed:
    """Number and sign every row of `df` (see the module's documentation).

    ``doc_id`` is Spark's ``monotonically_increasing_id()``: the partition
    index in the high bits and the row's place in it in the low ones, so it
    orders rows as the DataFrame does, and a DataFrame read again in the same
    way numbers its rows the same. With ``persist`` (the default), the
    numbered and the signed rows are kept for the later stages (on disk),
    so that the input is read once.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark import StorageLevel

    spark = df.sparkSession
    _check_versions(spark)
    params = _params(threshold, ngram, num_perm, char_ngram, seed, sketch, verify, bands, rows)
    fields = {f.name: f for f in df.schema.fields}
    if text_col not in fields:
        raise ValueError(f"no column {text_col!r} in the DataFrame; its columns are {list(fields)}")
    if not isinstance(fields[text_col].dataType, T.StringType):
        raise ValueError(f"column {text_col!r} is {fields[text_col].dataType.simpleString()}, not a string")
    if id_col is not None and id_col not in fields:
        raise ValueError(f"no column {id_col!r} in the DataFrame; its columns are {list(fields)}")
    id_expr = F.col(id_col) if id_col is not None else F.monotonically_increasing_id().cast("string")
    numbered = df.select(
        F.monotonically_increasing_id().alias("doc_id"), id_expr.alias("id"), F.col(text_col).alias("text")
    )
    if persist:
        # the texts on disk: held in executor memory they crowd the heap
        numbered = numbered.persist(StorageLevel.DISK_ONLY)
    id_type = numbered.schema["id"].dataType
    schema = T.StructType([
        T.StructField("doc_id", T.LongType()),
        T.StructField("id", id_type),
        T.StructField("samples", T.IntegerType()),
        T.StructField("signature", T.BinaryType()),
        T.StructField("bands", T.ArrayType(T.LongType())),
    ])

    def sign_batches(batches: Iterator) -> Iterator:
        import pyarrow as pa

        k = _kernel(params, threads)
        for b in batches:
            out = _batch(k.sign(b, "text"))
            yield pa.RecordBatch.from_arrays(
                [b.column("doc_id"), b.column("id"), out.column("samples"), out.column("signature"),
                 out.column("bands")],
                names=["doc_id", "id", "samples", "signature", "bands"],
            )

    docs = numbered.mapInArrow(sign_batches, schema)
    if persist:
        # on disk too: the heap is for the shuffles and the Arrow buffers
        docs = docs.persist(StorageLevel.DISK_ONLY)
    fp = _kernel(params, 1).fingerprint
    return Signed(docs=docs, texts=numbered.select("doc_id", "text"), params=params, fingerprint=fp,
                  threads=threads)


def _sigs(signed: Signed, side: str):
    return signed.docs.select(
        signed.docs.doc_id.alias(side), signed.docs.signature.alias("sig_" + side),
        signed.docs.samples.alias("samples_" + side),
    )


def _texts(signed: Signed, side: str):
    return signed.texts.select(signed.texts.doc_id.alias(side), signed.texts.text.alias("text_" + side))


def candidates(signed: Signed):
    """The candidate pairs ``(a, b)``, ``a < b``, unique: all pairs of every
    bucket of at most 64 members, the pivot walk of every larger one."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    params, threads = signed.params, signed.threads
    limit = _kernel(params, 1).all_pairs_max
    bands = signed.docs.where(F.col("samples") > 0).select(
        "doc_id", F.posexplode("bands").alias("band_id", "band_hash")
    )
    sizes = bands.groupBy("band_id", "band_hash").agg(F.count(F.lit(1)).alias("n"))
    keyed = bands.join(sizes, ["band_id", "band_hash"])
    small = keyed.where(F.col("n") <= limit).select("band_id", "band_hash", "doc_id")
    left = small.select("band_id", "band_hash", F.col("doc_id").alias("a"))
    right = small.select("band_id", "band_hash", F.col("doc_id").alias("b"))
    small_pairs = left.join(right, ["band_id", "band_hash"]).where(F.col("a") < F.col("b")).select("a", "b")

    large = keyed.where(F.col("n") > limit).select("band_id", "band_hash", "doc_id")
    members = (
        large.join(signed.docs.select("doc_id", "signature", "samples"), "doc_id")
        .repartition("band_id", "band_hash")
        .sortWithinPartitions("band_id", "band_hash", "doc_id")
    )
    pair_schema = T.StructType([T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False)])

    def walk(batches: Iterator) -> Iterator:
        w = _kernel(params, threads).bucket_walker()
        for b in batches:
            yield _batch(w.push(b))
        yield _batch(w.finish())

    large_pairs = members.mapInArrow(walk, pair_schema)
    return small_pairs.unionByName(large_pairs).distinct()


def link(signed: Signed, cands=None):
    """The edges ``(a, b)``: candidate pairs (`cands`, by default
    ``candidates(signed)``) linked as ``dedup`` links them (sure from the
    signatures, or doubtful and at or above the threshold by exact Jaccard of
    the texts; every candidate from the texts with ``verify="exact"``)."""
    from pyspark.sql import functions as F

    if cands is None:
        cands = candidates(signed)
    if _kernel(signed.params, 1).exact:
        doubtful = cands
        sure = None
    else:
        judged = _judged(signed, cands)
        sure = judged.where(F.col("verdict") == 2).select("a", "b")
        doubtful = judged.where(F.col("verdict") == 1).select("a", "b")
    settled = _settled(signed, doubtful).where(F.col("linked") == 1).select("a", "b")
    return settled if sure is None else sure.unionByName(settled)


def _judged(signed: Signed, pairs):
    """``(a, b, verdict)`` of `pairs` judged from their signatures: 2 surely
    alike, 1 doubtful, 0 not alike (the kernel's rule, as ``dedup``'s)."""
    from pyspark.sql import types as T

    params, threads = signed.params, signed.threads
    schema = T.StructType([
        T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False),
        T.StructField("verdict", T.ByteType(), False),
    ])

    def judge(batches: Iterator) -> Iterator:
        kk = _kernel(params, threads)
        for b in batches:
            yield _batch(kk.judge(b))

    return pairs.join(_sigs(signed, "a"), "a").join(_sigs(signed, "b"), "b").mapInArrow(judge, schema)


def _settled(signed: Signed, pairs):
    """``(a, b, similarity, linked)`` of `pairs` by exact Jaccard of their
    texts (``linked``: at or above the threshold)."""
    from pyspark.sql import types as T

    params, threads = signed.params, signed.threads
    schema = T.StructType([
        T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False),
        T.StructField("similarity", T.DoubleType(), False), T.StructField("linked", T.ByteType(), False),
    ])

    def settle(batches: Iterator) -> Iterator:
        kk = _kernel(params, threads)
        for b in batches:
            yield _batch(kk.jaccard(b))

    return pairs.join(_texts(signed, "a"), "a").join(_texts(signed, "b"), "b").mapInArrow(settle, schema)


def components(edges, *, driver_edges: int = DRIVER_EDGES, checkpoint: bool = True):
    """``(doc_id, cluster_id)`` for every document in a cluster of two or
    more, ``cluster_id`` its component's smallest id: Rust union-find on the
    driver when there are at most `driver_edges` edges, else large-star /
    small-star rounds in Spark."""
    from pyspark import StorageLevel

    spark = edges.sparkSession
    edges = edges.select("a", "b").persist(StorageLevel.MEMORY_AND_DISK)
    n = edges.count()
    if n <= driver_edges:
        return _components_on_driver(spark, edges)
    return _star_components(edges, checkpoint=checkpoint)


def _to_arrow(df):
    """Collect `df` to the driver as a pyarrow Table."""
    if hasattr(df, "toArrow"):  # Spark 4
        return df.toArrow()
    import pyarrow as pa

    batches = df._collect_as_arrow()  # Spark 3.5
    if batches:
        return pa.Table.from_batches(batches)
    return pa.table({f.name: pa.array([], pa.int64()) for f in df.schema.fields})


def _from_arrow(spark, table, schema):
    """A DataFrame of a pyarrow Table (Spark 4 takes it as it is; 3.5 through pandas)."""
    if _version(spark.version) >= (4, 0):
        return spark.createDataFrame(table, schema=schema)
    return spark.createDataFrame(table.to_pandas(), schema=schema)


def _components_on_driver(spark, edges):
    from pyspark.sql import types as T
    from neardup._neardup import components as uf

    import pyarrow as pa

    table = pa.record_batch(uf(_to_arrow(edges)))
    schema = T.StructType([T.StructField("doc_id", T.LongType(), False),
                           T.StructField("cluster_id", T.LongType(), False)])
    return _from_arrow(spark, pa.Table.from_batches([table]), schema)


def _star_components(edges, *, checkpoint: bool = True, max_rounds: int = 100):
    """Connected components by alternating large-star and small-star rounds
    (Kiveris et al., 2014) until no edge changes. Every round's edges are
    checkpointed (``localCheckpoint`` unless a checkpoint directory is set),
    so that the plan does not grow with the rounds."""
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    has_dir = spark.sparkContext.getCheckpointDir() is not None

    def cut(df):
        if not checkpoint:
            return df
        return df.checkpoint() if has_dir else df.localCheckpoint()

    # undirected, no self-loops, each edge once as (larger, smaller)
    e = cut(edges.select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v"))
            .where(F.col("u") != F.col("v")).distinct())
    for _ in range(max_rounds):
        # large-star: every neighbour larger than u joins u's smallest neighbour (or u)
        both = e.select("u", "v").unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
        m = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
        large = (both.join(m, "u").where(F.col("v") > F.col("u"))
                 .select(F.col("v").alias("u"), F.col("m").alias("v")).where(F.col("u") != F.col("v")).distinct())
        # small-star: u and its smaller neighbours join the smallest of them
        m2 = large.groupBy("u").agg(F.min("v").alias("m"))
        small = (large.join(m2, "u").select(F.col("v").alias("u"), F.col("m").alias("v"))
                 .unionByName(m2.select("u", F.col("m").alias("v")))
                 .where(F.col("u") != F.col("v")).distinct())
        small = cut(small)
        changed = small.exceptAll(e).limit(1).count() > 0 or e.exceptAll(small).limit(1).count() > 0
        e = small
        if not changed:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_rounds} star rounds")
    # a star: every u points at its component's smallest id
    roots = e.select("v").distinct().select(F.col("v").alias("doc_id"), F.col("v").alias("cluster_id"))
    return e.select(F.col("u").alias("doc_id"), F.col("v").alias("cluster_id")).unionByName(roots)


def dedup(df, text_col: str = "text", id_col: Optional[str] = "id", threshold: float = 0.8, ngram: int = 5,
          num_perm: int = 128, *, char_ngram: Optional[int] = None, seed: int = 0, sketch: str = "oph",
          verify: str = "estimate", bands: Optional[int] = None, rows: Optional[int] = None,
          threads: Optional[int] = 1, driver_edges: int = DRIVER_EDGES, strict: bool = False,
          ordered: bool = True, cluster: str = "star"):
    """Cluster the rows of `df`: a DataFrame of ``(id, cluster, similarity)``
    for every row, as ``neardup dedup --clusters`` writes them: ``cluster``
    is the id of the cluster's representative (its first row in the
    DataFrame's order), ``similarity`` the row's similarity to it (1.0 for
    the representative; the estimate, or exact Jaccard with
    ``verify="exact"``). A row whose text is null is a bad record: it is
    its own cluster with a null similarity, reported with a
    `BadRecordsWarning` (an error with ``strict``). With ``ordered`` the rows
    come in the DataFrame's order.

    `cluster` is ``"star"`` (as ``neardup dedup``: a row is removed only
    when it reaches the threshold to the row kept in its place; see
    `stars`) or ``"components"`` (connected components).

    `threads` is the Rust threads per task (1: one per Spark core, the
    usual setting). `driver_edges`: see `components`.
    """
    if cluster not in ("star", "components"):
        raise ValueError(f"cluster must be 'star' or 'components', got {cluster!r}")

    signed = sign(df, text_col, id_col, threshold, ngram, num_perm, char_ngram=char_ngram, seed=seed,
                  sketch=sketch, verify=verify, bands=bands, rows=rows, threads=threads)
    _report_bad(signed, strict)
    comps = components(link(signed), driver_edges=driver_edges)
    if cluster == "star":
        comps = stars(signed, comps)
    return clusters(signed, comps, ordered=ordered)


STAR_ROUNDS_MAX = 1024


def stars(signed: Signed, comps, *, max_rounds: int = STAR_ROUNDS_MAX, checkpoint: bool = True):
    """Star clusters inside the components `comps` (``doc_id``,
    ``cluster_id``), as ``neardup dedup --cluster star`` makes them: round
    by round, each component's first row still without a cluster keeps
    every such member at or above the threshold to it (sure from the
    signatures, else exact Jaccard of the texts); the rest go to the next
    round. After `max_rounds` the rows left are kept as they are.
    ``(doc_id, cluster_id, similarity)`` for every row of `comps`."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    exact = _kernel(signed.params, 1).exact
    spark = comps.sparkSession
    has_dir = spark.sparkContext.getCheckpointDir() is not None

    def cut(df):
        if not checkpoint:
            return df.persist(StorageLevel.MEMORY_AND_DISK)
        return df.checkpoint() if has_dir else df.localCheckpoint()

    active = cut(comps.select("doc_id", "cluster_id"))
    placed = []
    for _ in range(max_rounds):
        if active.limit(1).count() == 0:
            break
        centers = active.groupBy("cluster_id").agg(F.min("doc_id").alias("center"))
        members = (active.join(centers, "cluster_id").where(F.col("doc_id") != F.col("center"))
                   .select("doc_id", "center", F.least("doc_id", "center").alias("a"),
                           F.greatest("doc_id", "center").alias("b")))
        pairs = members.select("a", "b")
        if exact:
            sure, doubtful = None, pairs
        else:
            judged = cut(_judged(signed, pairs))
            sure = _similarities(signed, judged.where(F.col("verdict") == 2).select("a", "b"))
            doubtful = judged.where(F.col("verdict") == 1).select("a", "b")
        settled = _settled(signed, doubtful).where(F.col("linked") == 1).select("a", "b", "similarity")
        alike = settled if sure is None else sure.unionByName(settled)
        # each pair is one member and its round's center
        found = alike.join(members, ["a", "b"]).select("doc_id", F.col("center").alias("cluster_id"), "similarity")
        kept = centers.select(F.col("center").alias("doc_id"), F.col("center").alias("cluster_id"),
                              F.lit(1.0).alias("similarity"))
        now = cut(kept.unionByName(found))
        placed.append(now)
        active = cut(active.join(now.select("doc_id"), "doc_id", "left_anti"))
    left = active.select("doc_id", F.col("doc_id").alias("cluster_id"), F.lit(1.0).alias("similarity"))
    out = left
    for p in placed:
        out = out.unionByName(p)
    return out


def clusters(signed: Signed, comps, *, ordered: bool = True):
    """``(id, cluster, similarity)`` for every signed row, from the
    components or the star clusters (see `dedup`)."""
    from pyspark.sql import functions as F

    pairs = comps.where(F.col("doc_id") != F.col("cluster_id")).select(
        F.col("doc_id").alias("a"), F.col("cluster_id").alias("b"),
        *(["similarity"] if "similarity" in comps.columns else []))
    # star clusters come with their similarities (exact where they were settled)
    sims = pairs if "similarity" in comps.columns else _similarities(signed, pairs)
    docs = signed.docs.select("doc_id", "id", "samples")
    reps = docs.select(F.col("doc_id").alias("b"), F.col("id").alias("cluster"))
    out = (
        docs.join(sims.select(F.col("a").alias("doc_id"), "b", "similarity"), "doc_id", "left")
        .join(reps, "b", "left")
        .select(
            "doc_id", "id",
            F.coalesce(F.col("cluster"), F.col("id")).alias("cluster"),
            F.when(F.col("b").isNotNull(), F.col("similarity"))
            .when(F.col("samples") < 0, F.lit(None).cast("double"))
            .otherwise(F.lit(1.0)).alias("similarity"),
        )
    )
    if ordered:
        out = out.orderBy("doc_id")
    return out.drop("doc_id")


def _similarities(signed: Signed, pairs):
    """``(a, b, similarity)`` for pairs of a document and its
    representative: the estimate, or exact Jaccard in exact mode (what
    ``dedup`` reports)."""
    from pyspark.sql import types as T

    params, threads = signed.params, signed.threads
    k = _kernel(params, 1)
    schema = T.StructType([
        T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False),
        T.StructField("similarity", T.DoubleType(), False),
    ])
    if k.exact:
        def exact(batches: Iterator) -> Iterator:
            kk = _kernel(params, threads)
            for b in batches:
                out = _batch(kk.jaccard(b))
                yield out.select(["a", "b", "similarity"])

        return pairs.join(_texts(signed, "a"), "a").join(_texts(signed, "b"), "b").mapInArrow(exact, schema)

    def estimate(batches: Iterator) -> Iterator:
        kk = _kernel(params, threads)
        for b in batches:
            yield _batch(kk.estimate(b))

    return pairs.join(_sigs(signed, "a"), "a").join(_sigs(signed, "b"), "b").mapInArrow(estimate, schema)


def _report_bad(signed: Signed, strict: bool) -> None:
    from pyspark.sql import functions as F

    bad = signed.docs.where(F.col("samples") < 0)
    first = bad.select("id").limit(5).collect()
    if not first:
        return
    n = bad.count()
    ids = ", ".join(repr(r["id"]) for r in first)
    msg = f"{n} rows have a null text (the first: {ids}); each is kept as its own cluster"
    if strict:
        raise ValueError(msg)
    warnings.warn(msg, BadRecordsWarning, stacklevel=3)


def filter(df, clusters, id_col: str = "id"):  # noqa: A001 - the stage's name
    """The rows of `df` to keep (every column): those that are their own
    cluster's representative in `clusters` (what `dedup` returned), or not
    in it at all. An anti-join on the removed ids."""
    from pyspark.sql import functions as F

    if id_col not in df.columns:
        raise ValueError(f"no column {id_col!r} in the DataFrame; its columns are {df.columns}")
    removed = clusters.where(F.col("id") != F.col("cluster")).select(F.col("id").alias("__neardup_removed"))
    return df.join(removed, df[id_col] == removed["__neardup_removed"], "left_anti")
