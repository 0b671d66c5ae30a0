#!/usr/bin/env python3
"""Build data/small.jsonl from data/seed-article.txt: the article's
paragraphs as documents, plus hand-made variants with known answers (see
data/README.md). Deterministic; standard library only.

Usage: python3 data/make_small.py > data/small.jsonl
"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
text = open(os.path.join(here, "seed-article.txt"), encoding="utf-8").read()
paras = [p for p in text.split("\n") if p.strip()]


def words_replaced(p, positions, new="REPLACED"):
    w = p.split()
    for i in positions:
        w[i] = new + str(i)
    return " ".join(w)


docs = [
    ("article", text),
    ("article-without-repeats", "\n".join(paras[:8])),
    ("p0", paras[0]),
    ("p3", paras[3]),
    ("p4", paras[4]),
    ("p4-recased", paras[4].upper().replace(",", " ,").replace(".", "!")),
    ("p5", paras[5]),
    ("p5-one-word-changed", words_replaced(paras[5], [33])),
    ("p6", paras[6]),
    ("p6-four-words-changed", words_replaced(paras[6], [5, 17, 29, 41])),
    ("p7", paras[7]),
    ("p7-truncated", " ".join(paras[7].split()[:-3])),
    ("empty", ""),
    ("blank", "   \n\t "),
    (None, "A document without an id gets its file and line as its id, and is unique."),
    (42, "Numeric ids are kept as their decimal text; this short note is unique too."),
    ("unrelated-1", "Rust programs manage memory through ownership: every value has one owner and is dropped when the owner goes out of scope."),
    ("unrelated-2", "The river froze early that winter, and the ferry stopped running until March, so the village relied on the old bridge."),
]

for did, t in docs:
    rec = {"text": t} if did is None else {"id": did, "text": t}
    print(json.dumps(rec, ensure_ascii=False))
