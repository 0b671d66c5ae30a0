//! The report's plots as inline SVG: a histogram, a log-log scatter, a
//! curve and horizontal bars, each a fixed-size picture whatever the data.

use std::fmt::Write;

use super::page::escape;

/// Width and height of every plot, in pixels.
const W: f64 = 600.0;
const H: f64 = 280.0;
/// Margins: left, right, top, bottom.
const ML: f64 = 60.0;
const MR: f64 = 20.0;
const MT: f64 = 30.0;
const MB: f64 = 45.0;

/// A plot area mapping data coordinates onto pixels.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    out: String,
}

impl Frame {
    /// An empty picture titled `title` with axis labels.
    fn new(title: &str, xlabel: &str, ylabel: &str, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Frame {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="plot" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><text x="{cx}" y="18" class="t">{t}</text><text x="{cx}" y="{xl}" class="l">{x}</text><text x="14" y="{cy}" class="l" transform="rotate(-90 14 {cy})">{y}</text>"#,
            t = escape(title),
            x = escape(xlabel),
            y = escape(ylabel),
            cx = W / 2.0,
            xl = H - 6.0,
            cy = (MT + H - MB) / 2.0,
        );
        let _ = write!(
            out,
            r#"<rect x="{ML}" y="{MT}" width="{w}" height="{h}" class="area"/>"#,
            w = W - ML - MR,
            h = H - MT - MB
        );
        Frame { x0, x1, y0, y1, out }
    }

    fn px(&self, x: f64) -> f64 {
        let span = if self.x1 > self.x0 { self.x1 - self.x0 } else { 1.0 };
        ML + (x - self.x0) / span * (W - ML - MR)
    }

    fn py(&self, y: f64) -> f64 {
        let span = if self.y1 > self.y0 { self.y1 - self.y0 } else { 1.0 };
        H - MB - (y - self.y0) / span * (H - MT - MB)
    }

    /// A tick and label on the x axis at data `x`.
    fn xtick(&mut self, x: f64, label: &str) {
        let (px, y) = (self.px(x), H - MB);
        let _ = write!(
            self.out,
            r#"<line x1="{px:.1}" y1="{y}" x2="{px:.1}" y2="{y2}" class="ax"/><text x="{px:.1}" y="{ty}" class="k">{l}</text>"#,
            y2 = y + 4.0,
            ty = y + 16.0,
            l = escape(label)
        );
    }

    /// A tick, label and grid line on the y axis at data `y`.
    fn ytick(&mut self, y: f64, label: &str) {
        let py = self.py(y);
        let _ = write!(
            self.out,
            r#"<line x1="{a}" y1="{py:.1}" x2="{b}" y2="{py:.1}" class="grid"/><text x="{tx}" y="{ty:.1}" class="ke">{l}</text>"#,
            a = ML,
            b = W - MR,
            tx = ML - 5.0,
            ty = py + 4.0,
            l = escape(label)
        );
    }

    /// A vertical marker at data `x` with a label.
    fn vmark(&mut self, x: f64, label: &str) {
        let px = self.px(x);
        let _ = write!(
            self.out,
            r#"<line x1="{px:.1}" y1="{MT}" x2="{px:.1}" y2="{y}" class="mark"/><text x="{tx:.1}" y="{ty}" class="m">{l}</text>"#,
            y = H - MB,
            tx = px + 4.0,
            ty = MT + 14.0,
            l = escape(label)
        );
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A short number: integers as is, large ones with k / M.
pub(crate) fn short(n: f64) -> String {
    match n.abs() {
        a if a >= 1e6 => format!("{:.1}M", n / 1e6),
        a if a >= 1e4 => format!("{:.0}k", n / 1e3),
        a if a.fract() == 0.0 => format!("{n:.0}"),
        _ => format!("{n:.2}"),
    }
}

/// Bars of `bins` (equal widths over [0, 1]) from `lo` up, a marker at `threshold`.
pub(crate) fn histogram(title: &str, bins: &[u64], lo: f64, threshold: f64) -> String {
    let n = bins.len() as f64;
    let first = ((lo * n).floor() as usize).min(bins.len());
    let max = bins[first..].iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut f = Frame::new(title, "similarity to the representative", "members", (lo, 1.0), (0.0, max));
    let step = (max / 4.0).ceil().max(1.0);
    let max = step * 4.0;
    f.y1 = max;
    for k in 0..=4 {
        let y = step * k as f64;
        f.ytick(y, &short(y));
    }
    let step = if 1.0 - lo > 0.5 { 0.1 } else { 0.05 };
    let mut x = lo;
    while x <= 1.0 + 1e-9 {
        f.xtick(x, &format!("{x:.2}"));
        x += step;
    }
    for (i, &c) in bins.iter().enumerate().skip(first).filter(|(_, c)| **c > 0) {
        let (a, b) = (f.px(i as f64 / n), f.px((i + 1) as f64 / n));
        let (top, base) = (f.py(c as f64), f.py(0.0));
        let _ = write!(
            f.out,
            r#"<rect x="{a:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" class="bar"><title>[{l:.2}, {r:.2}): {c}</title></rect>"#,
            w = (b - a - 1.0).max(1.0),
            h = base - top,
            l = i as f64 / n,
            r = (i + 1) as f64 / n
        );
    }
    f.vmark(threshold, &format!("threshold {threshold}"));
    f.finish()
}

/// Powers of ten from 1 up to at least `max`.
fn decades(max: f64) -> Vec<f64> {
    let top = max.max(10.0).log10().ceil() as i32;
    (0..=top).map(|e| 10f64.powi(e)).collect()
}

/// Points (x, y), both at least 1, on log-log axes.
pub(crate) fn loglog(title: &str, xlabel: &str, ylabel: &str, points: &[(u64, u64)]) -> String {
    let xmax = points.iter().map(|p| p.0).max().unwrap_or(1) as f64;
    let ymax = points.iter().map(|p| p.1).max().unwrap_or(1) as f64;
    let (xd, yd) = (decades(xmax), decades(ymax));
    let top = |d: &[f64]| d.last().copied().unwrap_or(10.0).log10();
    let mut f = Frame::new(title, xlabel, ylabel, (0.0, top(&xd)), (0.0, top(&yd)));
    for d in &xd {
        f.xtick(d.log10(), &short(*d));
    }
    for d in &yd {
        f.ytick(d.log10(), &short(*d));
    }
    let mut line = String::new();
    for &(x, y) in points.iter().filter(|p| p.0 > 0 && p.1 > 0) {
        let (px, py) = (f.px((x as f64).log10()), f.py((y as f64).log10()));
        let _ = write!(line, "{px:.1},{py:.1} ");
        let _ = write!(
            f.out,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" class="dot"><title>{x}: {y}</title></circle>"#
        );
    }
    let _ = write!(f.out, r#"<polyline points="{line}" class="curve thin"/>"#);
    f.finish()
}

/// P(candidate) = 1 - (1 - s^rows)^bands over s in [0, 1], the threshold marked.
pub(crate) fn s_curve(title: &str, bands: u32, rows: u32, threshold: f64) -> String {
    let p = |s: f64| 1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32);
    let mut f = Frame::new(title, "Jaccard similarity s", "P(candidate)", (0.0, 1.0), (0.0, 1.0));
    for k in 0..=5 {
        let v = k as f64 / 5.0;
        f.xtick(v, &format!("{v:.1}"));
        f.ytick(v, &format!("{v:.1}"));
    }
    let mut line = String::new();
    for i in 0..=200 {
        let s = i as f64 / 200.0;
        let _ = write!(line, "{:.1},{:.1} ", f.px(s), f.py(p(s)));
    }
    let _ = write!(f.out, r#"<polyline points="{line}" class="curve"/>"#);
    let pt = p(threshold);
    f.vmark(threshold, &format!("P({threshold}) = {pt:.4}"));
    let _ = write!(f.out, r#"<circle cx="{:.1}" cy="{:.1}" r="4" class="dot"/>"#, f.px(threshold), f.py(pt));
    f.finish()
}

/// Horizontal bars: (label, value, note) with the value's bar.
pub(crate) fn bars(title: &str, rows: &[(String, u64, String)]) -> String {
    const ROW: f64 = 18.0;
    const LABEL: f64 = 220.0;
    const LABEL_CHARS: usize = 32;
    let h = MT + ROW * rows.len().max(1) as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="plot" width="{W}" height="{h}" viewBox="0 0 {W} {h}" role="img" aria-label="{t}"><title>{t}</title><text x="{cx}" y="18" class="t">{t}</text>"#,
        t = escape(title),
        cx = W / 2.0
    );
    for (i, (label, v, note)) in rows.iter().enumerate() {
        let y = MT + ROW * i as f64;
        let w = (W - LABEL - 170.0) * *v as f64 / max;
        // long labels (paths) keep their end
        let chars = label.chars().count();
        let shown: String = match chars > LABEL_CHARS {
            true => std::iter::once('\u{2026}').chain(label.chars().skip(chars + 1 - LABEL_CHARS)).collect(),
            false => label.clone(),
        };
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ty:.1}" class="ke">{l}</text><rect x="{LABEL}" y="{y:.1}" width="{w:.1}" height="{bh}" class="bar"><title>{full}: {v}</title></rect><text x="{nx:.1}" y="{ty:.1}" class="ks">{v} {n}</text>"#,
            lx = LABEL - 6.0,
            ty = y + 12.0,
            l = escape(&shown),
            bh = ROW - 4.0,
            full = escape(label),
            nx = LABEL + w + 6.0,
            n = escape(note)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_with_their_titles_escaped() {
        let h = histogram("sims <1>", &[0, 1, 2, 0], 0.0, 0.8);
        assert!(h.starts_with("<svg") && h.ends_with("</svg>") && h.contains("sims &lt;1&gt;"), "{h}");
        assert!(s_curve("S", 16, 8, 0.8).contains("P(0.8) = "));
        assert!(loglog("L", "x", "y", &[(1, 100), (2, 10), (1000, 1)]).contains("<circle"));
        assert!(bars("B", &[("<b>".into(), 3, "(50%)".into())]).contains("&lt;b&gt;"));
    }
}
