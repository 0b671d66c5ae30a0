#!/usr/bin/env python3
"""A multilingual corpus with planted near-duplicates, from what Debian ships.

    python3 benches/multilingual/build.py OUT.jsonl [--per-lang N] [--seed S]

Sources, read from the machine (nothing is downloaded):
- translated manual pages (`manpages-zh`, `manpages-ja`, `manpages-de`,
  `manpages-fr`, `manpages-ru`, and the translations other packages install)
  under /usr/share/man/LANG, the English ones under /usr/share/man/man[1578];
  the roff is reduced to its text;
- for the languages without manual pages (Thai, Khmer, Lao, Myanmar), the
  translated messages of the gettext catalogs under /usr/share/locale/LANG.

Each language's text is cut into documents of whole paragraphs (100 to 400
words, or 250 to 1000 characters in scripts written without spaces); exact
repeats are dropped. Then a quarter of the documents get a copy with a few
edits (1 in 500 to 1 in 40 of their units replaced, deleted or inserted; a
unit is a word, or a character in scripts without spaces), so the corpus holds
pairs on both sides of a 0.8 threshold. Records: {"id", "lang", "text"};
the same inputs and seed give the same file. Prints per-language counts to
stderr. Languages with no source on the machine are skipped, and named.
"""
import argparse
import gettext
import glob
import gzip
import json
import os
import random
import re
import sys

MAN = "/usr/share/man"
LOCALE = "/usr/share/locale"
# language -> manual page directories
MAN_LANGS = {
    "en": [f"{MAN}/man1", f"{MAN}/man5", f"{MAN}/man7", f"{MAN}/man8"],
    "de": [f"{MAN}/de"],
    "fr": [f"{MAN}/fr"],
    "ru": [f"{MAN}/ru"],
    "zh": [f"{MAN}/zh_CN", f"{MAN}/zh_TW"],
    "ja": [f"{MAN}/ja"],
    "ko": [f"{MAN}/ko"],
}
# language -> gettext catalogs
MO_LANGS = {"th": "th", "km": "km", "lo": "lo", "my": "my"}
UNSPACED = {"zh", "ja", "th", "km", "lo", "my"}

ESCAPES = re.compile(r"\\(f(\[[^\]]*\]|\(..|.)|s[+-]?\d+|\*(\[[^\]]*\]|\(..|.)|\((..)|\[[^\]]*\]|.)")
MACRO_TEXT = {"SH", "SS", "B", "I", "BR", "RB", "IR", "RI", "BI", "IB", "SM", "SB", "TP", "IP", "UR", "MT"}
BREAKS = {"PP", "P", "LP", "SH", "SS", "TP", "IP", "HP", "sp", "br", "RS", "RE", "EX", "EE", "nf", "fi"}


def unescape(m):
    s = m.group(1)
    if s.startswith("[u") and len(s) == 7:
        try:
            return chr(int(s[2:6], 16))
        except ValueError:
            return ""
    if s == "-":
        return "-"
    if s == "e":
        return "\\"
    if s in (" ", "~", "0"):
        return " "
    return ""


def roff_paragraphs(src):
    """The paragraphs of one manual page's roff source, as plain text."""
    paras, cur = [], []

    def flush():
        if cur:
            paras.append(" ".join(cur) if not cur[0].startswith("\0") else "")
            cur.clear()

    for line in src.splitlines():
        line = line.split('\\"', 1)[0]
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            if not parts:
                continue
            name = parts[0]
            if name in BREAKS:
                flush()
            if name in MACRO_TEXT and len(parts) > 1:
                cur.append(ESCAPES.sub(unescape, parts[1].replace('"', "")).strip())
            continue
        text = ESCAPES.sub(unescape, line).strip()
        if not text:
            flush()
        else:
            cur.append(text)
    flush()
    return [p for p in paras if p.strip()]


def man_paragraphs(dirs):
    pages = sorted(p for d in dirs for p in glob.glob(f"{d}/**/*", recursive=True) if os.path.isfile(p))
    for p in pages:
        try:
            raw = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
        except (OSError, EOFError):
            continue
        src = raw.decode("utf-8", errors="replace")
        if src.count("\ufffd") > 10 or src.startswith(".so "):
            continue
        yield from roff_paragraphs(src)


def mo_paragraphs(lang):
    for p in sorted(glob.glob(f"{LOCALE}/{lang}/LC_MESSAGES/*.mo")):
        try:
            with open(p, "rb") as f:
                cat = gettext.GNUTranslations(f)._catalog
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        # messages in catalog order (sorted by their English key), as text
        for key in sorted(cat, key=str):
            v = cat[key]
            if key and isinstance(v, str) and v.strip():
                yield re.sub(r"%\S|\s+", " ", v).strip()


def units(text, unspaced):
    return len(re.sub(r"\s", "", text)) if unspaced else len(text.split())


def documents(paras, unspaced, per_lang):
    lo, hi = (250, 1000) if unspaced else (100, 400)
    seen, cur, n = set(), [], 0
    for p in paras:
        cur.append(p)
        n += units(p, unspaced)
        if n >= lo:
            text = "\n\n".join(cur)
            if n <= hi * 2:
                key = re.sub(r"\s+", " ", text)
                if key not in seen:
                    seen.add(key)
                    yield text
                    if len(seen) >= per_lang:
                        return
            cur, n = [], 0


def edited(text, unspaced, rng):
    """A copy with a few unit edits."""
    rate = rng.uniform(1 / 500, 1 / 40)
    if unspaced:
        chars = list(text)
        spots = [i for i, c in enumerate(chars) if not c.isspace()]
        pool = [chars[i] for i in spots]
        for i in rng.sample(spots, max(1, round(rate * len(spots)))):
            op = rng.random()
            chars[i] = rng.choice(pool) if op < 0.5 else "" if op < 0.75 else chars[i] + rng.choice(pool)
        return "".join(chars)
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.strip()]
    for i in rng.sample(spots, max(1, round(rate * len(spots)))):
        op = rng.random()
        w = rng.choice(words)
        words[i] = w if op < 0.5 else "" if op < 0.75 else words[i] + " " + w
    return " ".join(w for w in words if w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--per-lang", type=int, default=2000, help="original documents per language at most")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sources = [(lang, man_paragraphs(dirs)) for lang, dirs in MAN_LANGS.items()]
    sources += [(lang, mo_paragraphs(loc)) for lang, loc in MO_LANGS.items()]
    with open(a.out + ".tmp", "w", encoding="utf-8") as out:
        for lang, paras in sources:
            unspaced = lang in UNSPACED
            docs = list(documents(paras, unspaced, a.per_lang))
            if not docs:
                print(f"{lang}: no source on this machine, skipped", file=sys.stderr)
                continue
            records = [(f"{lang}-{i:05d}", t) for i, t in enumerate(docs)]
            copies = rng.sample(range(len(docs)), len(docs) // 4)
            records += [(f"{lang}-{i:05d}-copy", edited(docs[i], unspaced, rng)) for i in copies]
            rng.shuffle(records)
            for rid, text in records:
                out.write(json.dumps({"id": rid, "lang": lang, "text": text}, ensure_ascii=False) + "\n")
            print(f"{lang}: {len(docs)} documents, {len(copies)} edited copies", file=sys.stderr)
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
