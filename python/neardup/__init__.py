"""neardup: find text that was said twice.

- ``Index``: an incremental near-duplicate index for crawlers (insert a page,
  learn whether it near-duplicates one seen before; save and load it).
- ``dedup(texts)``: cluster a list of texts; one label per text. Given Arrow
  data (a pyarrow Table or RecordBatch, or anything with the Arrow PyCapsule
  interface: pandas, polars, Hugging Face ``datasets``) and a ``column``, the
  texts are read in place, without copying them into Python strings, and the
  result is a pyarrow Table.
- ``passages(texts)``: spans repeated inside or across texts; the same for
  Arrow data.
- ``neardup.spark``: the same deduplication on a Spark DataFrame.

The work is done by the Rust core, with the GIL released.
"""

import warnings as _warnings

from neardup import _neardup
from neardup._neardup import INDEX_FORMAT_VERSION, Index

__all__ = ["INDEX_FORMAT_VERSION", "Index", "dedup", "passages", "BadRecordsWarning"]


class BadRecordsWarning(UserWarning):
    """Rows of Arrow data whose text is null (bad records)."""


def _is_arrow(data):
    return hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__")


def _arrow_source(data):
    # a Hugging Face Dataset holds its Arrow table in .data
    if not _is_arrow(data) and hasattr(data, "data") and _is_arrow(data.data):
        return data.data
    return data


def _table(batch):
    import pyarrow as pa

    return pa.Table.from_batches([pa.record_batch(batch)])


def dedup(texts, threshold=0.8, ngram=5, num_perm=128, *, column=None, char_ngram=None, seed=0,
          sketch="oph", verify="estimate", bands=None, rows=None, threads=None, cluster="star",
          keep="first"):
    """Cluster `texts`.

    A sequence of strings gives one label per text: the position of its
    cluster's representative (by default the earliest text of its cluster),
    so ``labels[i] == i`` marks the texts to keep.

    `cluster` is ``"star"`` (a text is removed only when it reaches the
    threshold to the kept one; chains are cut) or ``"components"``
    (connected components). `keep` is ``"first"``, ``"longest"`` or
    ``"shortest"`` (texts have no fields for ``max:FIELD``).

    Arrow data with a `column` of strings gives a pyarrow Table with one row
    per input row: ``cluster`` (the row of its representative) and
    ``similarity`` (to the representative; null for a null text, which is a
    bad record, its own cluster, reported with a `BadRecordsWarning`).
    """
    data = _arrow_source(texts)
    if _is_arrow(data):
        if column is None:
            raise ValueError("Arrow data needs column= naming its text column")
        batch, bad = _neardup._dedup_arrow(
            data, column, threshold, ngram, num_perm, char_ngram=char_ngram, seed=seed, sketch=sketch,
            verify=verify, bands=bands, rows=rows, threads=threads, cluster=cluster, keep=keep)
        if bad:
            _warnings.warn(f"{bad} rows have a null {column!r}; each is its own cluster", BadRecordsWarning,
                           stacklevel=2)
        return _table(batch)
    if column is not None:
        raise ValueError("column= is for Arrow data; texts is a sequence of strings")
    return _neardup.dedup(texts, threshold, ngram, num_perm, char_ngram=char_ngram, seed=seed, sketch=sketch,
                          verify=verify, bands=bands, rows=rows, threads=threads, cluster=cluster, keep=keep)


def passages(texts, *, column=None, against=None, against_column=None, min_words=8, within=False,
             threads=None):
    """Repeated passages of `texts`: each a dict with ``doc``, ``start``,
    ``end`` (character offsets of the repeat), ``words``, and
    ``source_doc``, ``source_start``, ``source_end`` (its earlier
    occurrence; with `against`, ``source_doc`` indexes `against`).

    Arrow data with a `column` (and `against` Arrow data with
    `against_column`, by default the same name) gives a pyarrow Table of the
    same fields; a null text is read as empty and reported with a
    `BadRecordsWarning`.
    """
    data = _arrow_source(texts)
    if _is_arrow(data):
        if column is None:
            raise ValueError("Arrow data needs column= naming its text column")
        refs = _arrow_source(against) if against is not None else None
        if refs is not None and not _is_arrow(refs):
            raise ValueError("with Arrow texts, against must be Arrow data too")
        batch, bad = _neardup._passages_arrow(data, column, against=refs, against_column=against_column,
                                              min_words=min_words, within=within, threads=threads)
        if bad:
            _warnings.warn(f"{bad} rows have a null text, read as empty", BadRecordsWarning, stacklevel=2)
        return _table(batch)
    if column is not None:
        raise ValueError("column= is for Arrow data; texts is a sequence of strings")
    return _neardup.passages(texts, against=against, min_words=min_words, within=within, threads=threads)
