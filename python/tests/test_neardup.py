"""The Python package against the same behaviour the Rust tests pin."""

import json
import os
import pathlib
import threading

import pytest

import neardup

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"
PAGE = (
    "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat "
    "near the door of the old house by the river bank"
)


def small_corpus():
    out = []
    for n, line in enumerate((DATA / "small.jsonl").read_text().splitlines()):
        rec = json.loads(line)
        out.append((str(rec.get("id", f"line{n + 1}")), rec["text"]))
    return out


def test_insert_query_contains_len():
    index = neardup.Index(threshold=0.8)
    assert len(index) == 0
    assert index.insert("a", PAGE) is None
    of, sim = index.insert("b", PAGE.replace("river bank", "river bank today"))
    assert of == "a" and 0.8 <= sim < 1.0
    assert index.insert("c", "something else entirely, nothing alike at all") is None
    assert "b" in index and "z" not in index
    assert len(index) == 3
    q = index.query(PAGE)
    assert [m[0] for m in q] == ["a", "b"] and q[0][1] == 1.0
    assert len(index) == 3


def test_inserting_an_id_twice_is_a_value_error():
    index = neardup.Index()
    index.insert("a", PAGE)
    with pytest.raises(ValueError, match="already indexed"):
        index.insert("a", "other text")
    assert len(index) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"ngram": 0}, {"num_perm": 0}, {"sketch": "simhash"},
     {"verify": "maybe"}, {"bands": 4}, {"bands": 200, "rows": 2}],
)
def test_bad_parameters_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        neardup.Index(**kwargs)


def test_verdicts_agree_with_dedup_on_the_shipped_corpus():
    docs = small_corpus()
    labels = neardup.dedup([t for _, t in docs])
    index = neardup.Index()
    for i, (doc_id, text) in enumerate(docs):
        verdict = index.insert(doc_id, text)
        if labels[i] == i:
            assert verdict is None, doc_id
        else:
            assert verdict[0] == docs[labels[i]][0], doc_id
    assert sum(1 for i, l in enumerate(labels) if l != i) == 4


def test_insert_many_matches_single_inserts():
    pages = [(f"p{i}", f"{PAGE} variant {i % 5} " + "extra " * (i % 3)) for i in range(30)]
    one = neardup.Index()
    singles = [one.insert(i, t) for i, t in pages]
    many = neardup.Index(threads=2)
    assert many.insert_many(pages) == singles
    assert any(v is not None for v in singles)


def test_save_load_round_trip(tmp_path):
    for compact in (False, True):
        index = neardup.Index(compact=compact)
        for doc_id, text in small_corpus():
            index.insert(doc_id, text)
        path = tmp_path / f"i{compact}.ndx"
        index.save(path)
        back = neardup.Index.load(str(path))
        assert len(back) == len(index) and back.compact == compact
        assert back.threshold == 0.8
        for _, text in small_corpus():
            assert back.query(text) == index.query(text)


def test_damaged_or_missing_index_files_are_os_errors(tmp_path):
    path = tmp_path / "i.ndx"
    neardup.Index().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OSError, match="truncated"):
        neardup.Index.load(path)
    with pytest.raises(OSError):
        neardup.Index.load(tmp_path / "missing.ndx")
    with pytest.raises(OSError, match="not a neardup index"):
        neardup.Index.load(DATA / "small.jsonl")


def test_threads_share_one_index():
    index = neardup.Index()
    errors = []

    def work(t):
        try:
            for i in range(200):
                index.insert(f"t{t}-{i}", f"{PAGE} thread {t} page {i}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(index) == 800


def test_dedup_labels():
    texts = [PAGE, PAGE.upper() + "!", "an entirely different sentence about something else altogether"]
    assert neardup.dedup(texts) == [0, 0, 2]
    assert neardup.dedup([]) == []
    with pytest.raises(ValueError):
        neardup.dedup(texts, threshold=2.0)


def chain(steps=4, words=300):
    """Texts each the one before with 4 words replaced: neighbours alike
    (Jaccard 0.87 of word 5-grams), two steps apart not (0.76)."""
    w = [f"w{i * 7919 % 100003}" for i in range(words)]
    out = [" ".join(w)]
    for s in range(1, steps):
        for j in range(4):
            w[(s * 60 + j * 15) % words] = f"e{s}x{j}"
        out.append(" ".join(w))
    return out


def test_dedup_cluster_modes_and_keep_policies():
    texts = chain()
    assert neardup.dedup(texts, cluster="components") == [0, 0, 0, 0]
    assert neardup.dedup(texts) == [0, 0, 2, 2]  # star: no text removed unless alike the kept one
    base = chain(1)[0]
    copies = [base + " tail", base, base + " tail end"]
    assert neardup.dedup(copies, keep="longest") == [2, 2, 2]
    assert neardup.dedup(copies, keep="shortest") == [1, 1, 1]
    with pytest.raises(ValueError, match="cluster"):
        neardup.dedup(copies, cluster="chains")
    with pytest.raises(ValueError, match="keep"):
        neardup.dedup(copies, keep="newest")
    with pytest.raises(ValueError, match="fields"):
        neardup.dedup(copies, keep="max:date")


def test_passages_on_the_seed_article():
    text = (DATA / "seed-article.txt").read_text()
    found = neardup.passages([text], within=True)
    spans = sorted((p["start"], p["end"], p["source_start"], p["source_end"]) for p in found)
    # the title and three paragraphs repeat verbatim: the repeats copy earlier spans exactly
    assert spans
    for start, end, s_start, s_end in spans:
        assert text[start:end] == text[s_start:s_end]
        assert s_end <= start


def test_passages_use_character_offsets():
    shared = "naïve café owners say the crème brûlée is better than ever this year in town"
    texts = ["préface " + shared, "ünïcödé " + shared + " fin"]
    found = neardup.passages(texts)
    assert len(found) == 1
    p = found[0]
    assert p["doc"] == 1 and p["source_doc"] == 0
    assert texts[1][p["start"]:p["end"]] == texts[0][p["source_start"]:p["source_end"]]
    against = neardup.passages(["test: " + shared], against=texts[:1])
    assert against[0]["source_doc"] == 0
    with pytest.raises(ValueError):
        neardup.passages(texts, within=True, against=texts)


def test_no_gil_held_during_long_calls():
    """While one thread is inside insert_many, another runs Python and sees
    the index part-filled: the call does not hold the GIL."""
    pages = [(f"p{i}", f"{PAGE} {i} {i * 7} {i * 13}") for i in range(20000)]
    index = neardup.Index(threads=1)
    worker = threading.Thread(target=index.insert_many, args=(pages,))
    seen = set()
    worker.start()
    while worker.is_alive():
        seen.add(len(index))
    worker.join()
    assert len(index) == len(pages)
    assert any(0 < n < len(pages) for n in seen), sorted(seen)[:5]


def test_arrow_tables_batches_and_pandas_give_what_lists_give():
    pa = pytest.importorskip("pyarrow")
    rows = small_corpus()
    texts = [t for _, t in rows]
    labels = neardup.dedup(texts)
    table = pa.table({"id": [i for i, _ in rows], "body": texts})
    got = neardup.dedup(table, column="body")
    assert got.column_names == ["cluster", "similarity"]
    assert got.column("cluster").to_pylist() == labels
    sims = got.column("similarity").to_pylist()
    assert all(s == 1.0 for s, lab, i in zip(sims, labels, range(len(labels))) if lab == i)
    assert all(0.0 < s <= 1.0 for s in sims)
    assert neardup.dedup(table.to_batches()[0], column="body").column("cluster").to_pylist() == labels
    # a stream of several batches, and a string_view / large_string column
    two = pa.Table.from_batches(table.to_batches(max_chunksize=5))
    assert neardup.dedup(two, column="body").column("cluster").to_pylist() == labels
    big = table.cast(pa.schema([("id", pa.string()), ("body", pa.large_string())]))
    assert neardup.dedup(big, column="body").column("cluster").to_pylist() == labels
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"body": texts})
    if hasattr(frame, "__arrow_c_stream__"):
        assert neardup.dedup(frame, column="body").column("cluster").to_pylist() == labels
    found = neardup.passages(table, column="body", min_words=8)
    want = neardup.passages(texts, min_words=8)
    assert found.to_pylist() == want


def test_arrow_input_errors_are_named():
    pa = pytest.importorskip("pyarrow")
    table = pa.table({"body": ["a b c d e f g h", None], "n": [1, 2]})
    with pytest.raises(ValueError, match='no column "text"'):
        neardup.dedup(table, column="text")
    with pytest.raises(TypeError, match='"n" holds Int64, not strings'):
        neardup.dedup(table, column="n")
    with pytest.raises(ValueError, match="column="):
        neardup.dedup(table)
    with pytest.warns(neardup.BadRecordsWarning, match="1 rows have a null 'body'"):
        got = neardup.dedup(table, column="body")
    assert got.column("cluster").to_pylist() == [0, 1]
    assert got.column("similarity").to_pylist() == [1.0, None]
    with pytest.raises(TypeError, match="expected Arrow data"):
        neardup._neardup._dedup_arrow(object(), "body")
