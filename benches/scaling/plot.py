#!/usr/bin/env python3
"""Draw the scaling results and the default LSH S-curve as standalone SVG
files (no plotting library needed).

Usage: python3 plot.py results.csv OUT_DIR [--bands 17 --rows 7 --threshold 0.8]
"""
import argparse
import csv
import math
import os

W, H, M = 640, 400, 60


def svg(path, title, xlabel, ylabel, series, xlog=False, ymax=None, vline=None, xticks=None):
    xs = [x for _, pts, _ in series for x, _ in pts]
    ys = [y for _, pts, _ in series for _, y in pts]
    fx = (lambda v: math.log10(v)) if xlog else (lambda v: v)
    x0, x1 = min(map(fx, xs)), max(map(fx, xs))
    if x1 == x0:
        x1 = x0 + 1
    y1 = ymax or max(ys) * 1.15
    sx = lambda v: M + (fx(v) - x0) / (x1 - x0) * (W - 2 * M)
    sy = lambda v: H - M - v / y1 * (H - 2 * M)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="24" font-size="15" text-anchor="middle">%s</text>' % (W // 2, title),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (M, H - M, W - M, H - M),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (M, M, M, H - M),
           '<text x="%d" y="%d" text-anchor="middle">%s</text>' % (W // 2, H - 15, xlabel),
           '<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>' % (H // 2, H // 2, ylabel)]
    for i in range(6):
        v = y1 * i / 5
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (M - 6, sy(v) + 4, ("%.2f" % v) if y1 <= 2 else "%d" % v))
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (M, sy(v), W - M, sy(v)))
    for label, v in (xticks or [(("%.1f" % (x0 + (x1 - x0) * i / 5)), x0 + (x1 - x0) * i / 5) for i in range(6)]):
        px = M + ((fx(v) if xticks else v) - x0) / (x1 - x0) * (W - 2 * M)
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (px, H - M + 18, label))
    if vline is not None:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999" stroke-dasharray="4"/>' % (sx(vline), M, sx(vline), H - M))
    for k, (name, pts, color) in enumerate(series):
        d = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", sx(x), sy(y)) for i, (x, y) in enumerate(pts))
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"/>' % (d, color))
        for x, y in pts:
            if len(pts) < 20:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (sx(x), sy(y), color))
        out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - M - 150, M + 16 * k + 10, color, name))
    out.append("</svg>")
    open(path, "w").write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("out_dir")
    ap.add_argument("--bands", type=int, default=17)
    ap.add_argument("--rows", type=int, default=7)
    ap.add_argument("--threshold", type=float, default=0.8)
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.results)))
    pts = [(int(r["bytes"]), float(r["mb_per_s"])) for r in rows]
    mem = [(int(r["bytes"]), max(0, int(r["bytes_per_doc"]))) for r in rows]
    ticks = [(r["size"] + ("" if r["mode"] == "memory" else " (spilled)"), int(r["bytes"])) for r in rows]
    svg(os.path.join(a.out_dir, "scaling.svg"), "neardup dedup, realistic corpora, 2 threads: throughput",
        "corpus size (log scale)", "MB/s", [("MB/s", pts, "#d62728")], xlog=True, xticks=ticks, ymax=max(y for _, y in pts) * 1.3)
    svg(os.path.join(a.out_dir, "memory.svg"), "bytes per document beyond the mapped input (or the budget)",
        "corpus size (log scale)", "bytes per document", [("peak RSS beyond input or budget", mem, "#1f77b4")],
        xlog=True, xticks=ticks, ymax=max(y for _, y in mem) * 1.3)
    b, r, t = a.bands, a.rows, a.threshold
    curve = [(s / 100, 1 - (1 - (s / 100) ** r) ** b) for s in range(0, 101)]
    svg(os.path.join(a.out_dir, "s-curve.svg"),
        "LSH S-curve: %d bands x %d rows; P(candidate | J = %.2f) = %.3f" % (b, r, t, 1 - (1 - t ** r) ** b),
        "Jaccard similarity", "probability of becoming a candidate", [("1 - (1 - s^%d)^%d" % (r, b), curve, "#1f77b4")],
        ymax=1.0, vline=t)


if __name__ == "__main__":
    main()
