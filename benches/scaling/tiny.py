#!/usr/bin/env python3
"""Write N tiny JSONL documents (3 to 4 words each, 10 % exact copies of an
earlier document), deterministically, for the many-documents memory check.

Usage: python3 tiny.py N OUT.jsonl   (100 million documents: about 4.5 GB)
"""
import random
import sys

MASK = (1 << 64) - 1


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(7)
    vocab = ["w%x" % i for i in range(1 << 16)]
    with open(out, "w", buffering=1 << 24) as f:
        lines = []
        for i in range(n):
            j = rng.randrange(i) if i > 0 and rng.random() < 0.1 else i
            h = (j * 0x9E3779B97F4A7C15 + 1) & MASK
            text = " ".join(vocab[(h >> (16 * k)) & 0xFFFF] for k in range(3 + j % 2))
            lines.append('{"id":"t%d","text":"%s"}\n' % (i, text))
            if len(lines) >= 100000:
                f.write("".join(lines))
                lines.clear()
        f.write("".join(lines))


if __name__ == "__main__":
    main()
