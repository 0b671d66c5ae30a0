//! The HTML page: inline CSS, inline SVG, one line of inline script; every
//! id and text escaped, every text cut to a few KB.

use std::fmt::Write;

use super::stats::{Pair, Passages, Stats, cut};
use super::texts::{Found, shared_runs};
use super::{Sources, svg};

/// Bytes of each text shown side by side.
const TEXT_BYTES: usize = 3000;
/// Sources in the duplicates-per-source plot.
const TOP_SOURCES: usize = 20;

/// Titles of the plots (the tests look for them).
pub(crate) const TITLES: [&str; 4] = [
    "Similarity of members to their representative",
    "Cluster sizes",
    "Probability of becoming a candidate pair",
    "Duplicates per source",
];

/// What the page shows.
pub(crate) struct Page<'a> {
    /// Where the data came from.
    pub src: &'a Sources<'a>,
    /// The clusters' statistics.
    pub stats: &'a Stats,
    /// The passages' statistics, if a passages file was given.
    pub passages: Option<&'a Passages>,
    /// The sampled documents' texts.
    pub texts: &'a Found,
}

/// `s` with `&`, `<`, `>`, `"` and `'` escaped, for text and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1220px;color:#222;padding:0 12px}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.plots{display:flex;flex-wrap:wrap;gap:12px}.plot{background:#fff;border:1px solid #ddd}\
.plot .t{font-weight:600;text-anchor:middle;font-size:13px}.plot .l{text-anchor:middle;font-size:12px;fill:#444}\
.plot .k,.plot .ke,.plot .ks{font-size:11px;fill:#333;text-anchor:middle}.plot .ke{text-anchor:end}.plot .ks{text-anchor:start}.plot .m{font-size:11px;fill:#b00}\
.area{fill:#fafafa;stroke:#bbb}.ax{stroke:#888}.grid{stroke:#e4e4e4}.bar{fill:#4a7fb5}\
.mark{stroke:#b00;stroke-dasharray:4 3}.curve{fill:none;stroke:#2a6;stroke-width:2}.thin{stroke-width:1}.dot{fill:#2a6}\
.pair{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin:8px 0 18px}\
.doc{border:1px solid #ddd;padding:6px 8px;white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.4 ui-monospace,monospace;max-height:320px;overflow:auto}\
.doc b{display:block;font:600 12px system-ui,sans-serif;margin-bottom:4px}mark{background:#ffe27a}\
.tables{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.tables caption{font-weight:600;text-align:left}.note{color:#666}code{overflow-wrap:anywhere}";

/// The whole page.
pub(crate) fn render(p: &Page<'_>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>neardup report</title><style>{STYLE}</style></head><body><h1>neardup report</h1>"
    );
    let _ = write!(
        h,
        "<p class=\"note\">{} documents from <code>{}</code>, summary <code>{}</code>.</p>",
        p.stats.documents,
        escape(p.src.clusters_name),
        escape(p.src.summary_name)
    );
    summary(&mut h, p);
    plots(&mut h, p);
    largest(&mut h, p);
    borderline(&mut h, p);
    chains(&mut h, p);
    if let Some(ps) = p.passages {
        passages(&mut h, ps);
    }
    notes(&mut h, p);
    // the one script: the browser test reads this attribute back from the DOM
    h.push_str("<script>document.documentElement.setAttribute('data-ok',String(document.querySelectorAll('svg.plot').length));</script></body></html>\n");
    h
}

/// A JSON value of the summary as a cell.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => escape(s),
        serde_json::Value::Null => "&ndash;".into(),
        other => escape(&other.to_string()),
    }
}

/// The summary's fields as tables: the top-level numbers, then one table
/// per object (`params`, `seconds`, ...), nested objects as dotted names.
fn summary(h: &mut String, p: &Page<'_>) {
    fn rows(h: &mut String, prefix: &str, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    rows(h, &name, v);
                }
            }
            v => {
                let _ = write!(h, "<tr><td>{}</td><td class=\"n\">{}</td></tr>", escape(prefix), cell(v));
            }
        }
    }
    h.push_str("<h2>Summary</h2><div class=\"tables\"><table><caption>run</caption>");
    let empty = serde_json::Map::new();
    let fields = p.src.summary.as_object().unwrap_or(&empty);
    for (k, v) in fields.iter().filter(|(_, v)| !v.is_object()) {
        rows(h, k, v);
    }
    h.push_str("</table>");
    for (k, v) in fields.iter().filter(|(_, v)| v.is_object()) {
        let _ = write!(h, "<table><caption>{}</caption>", escape(k));
        rows(h, "", v);
        h.push_str("</table>");
    }
    h.push_str("</div>");
    let s = p.stats;
    let _ = write!(
        h,
        "<p>The clusters file: {} documents, {} clusters ({} with duplicates), {} duplicates; {} members below the threshold {} in {} clusters.</p>",
        s.documents,
        s.representatives,
        s.clusters_with_duplicates(),
        s.members,
        s.below,
        s.threshold,
        s.chained
    );
}

/// The four plots.
fn plots(h: &mut String, p: &Page<'_>) {
    let s = p.stats;
    let get =
        |k: &str| p.src.summary.get("params").and_then(|v| v.get(k)).and_then(serde_json::Value::as_u64);
    h.push_str("<h2>Plots</h2><div class=\"plots\">");
    let lo = (s.min_similarity.min(s.threshold) * 20.0).floor() / 20.0;
    h.push_str(&svg::histogram(TITLES[0], &s.similarity_bins, lo.clamp(0.0, 0.95), s.threshold));
    h.push_str(&svg::loglog(TITLES[1], "cluster size (documents)", "clusters", &s.size_distribution()));
    match (get("bands"), get("rows")) {
        (Some(b), Some(r)) => h.push_str(&svg::s_curve(TITLES[2], b as u32, r as u32, s.threshold)),
        _ => h.push_str("<p class=\"note\">The summary has no params.bands / params.rows: no S-curve.</p>"),
    }
    let mut rows: Vec<(String, u64, String)> = s
        .top_sources(TOP_SOURCES)
        .into_iter()
        .map(|(name, c)| {
            (if name.is_empty() { "(empty)" } else { name }.to_owned(), c.dups, percent(c.dups, c.docs))
        })
        .collect();
    for (label, c) in [("(no source in the id)", s.no_source), ("(other sources)", s.other_sources)] {
        if c.docs > 0 {
            rows.push((label.to_owned(), c.dups, percent(c.dups, c.docs)));
        }
    }
    h.push_str(&svg::bars(&format!("{} (by {})", TITLES[3], s.by.describe()), &rows));
    h.push_str("</div>");
    let _ = write!(
        h,
        "<p class=\"note\">Sources: {} distinct{}; the {} with the most duplicates are drawn, each with its share of duplicates among its documents.</p>",
        s.source_count(),
        if s.other_sources.docs > 0 { ", more counted together" } else { "" },
        TOP_SOURCES
    );
}

fn percent(part: u64, whole: u64) -> String {
    format!("({:.1}% of {whole})", 100.0 * part as f64 / whole.max(1) as f64)
}

fn id(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

/// The largest clusters: size, representative, a few members.
fn largest(h: &mut String, p: &Page<'_>) {
    let top = p.stats.largest();
    h.push_str("<h2>The largest clusters</h2>");
    if top.is_empty() {
        h.push_str("<p>No cluster has duplicates.</p>");
        return;
    }
    h.push_str("<table><tr><th>size</th><th>representative</th><th>least similar members seen</th></tr>");
    for t in &top {
        let members: Vec<String> =
            t.sample.sorted().iter().map(|m| format!("{} {:.3}", id(&m.member), m.similarity())).collect();
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            t.members + 1,
            id(&t.rep),
            members.join("<br>")
        );
    }
    h.push_str("</table>");
    let shown: Vec<&Pair> = top
        .iter()
        .take(super::stats::SHOWN_LARGEST)
        .filter_map(|t| t.sample.sorted().first().copied())
        .collect();
    pairs(h, p, &shown);
}

/// Members closest to the threshold, side by side with their representatives.
fn borderline(h: &mut String, p: &Page<'_>) {
    h.push_str("<h2>Borderline pairs</h2><p class=\"note\">Members whose similarity to their representative is closest to the threshold (ties by a hash of the id).</p>");
    pairs(h, p, &p.stats.borderline.sorted());
}

/// Clusters with members below the threshold to their representative.
fn chains(h: &mut String, p: &Page<'_>) {
    let s = p.stats;
    let from_summary = p.src.summary.get("chained_clusters").and_then(serde_json::Value::as_u64);
    let _ = write!(
        h,
        "<h2>The chains</h2><p>{} clusters hold a member below the threshold to its representative (the summary's <code>chained_clusters</code>: {}); {} members in all.</p>",
        s.chained,
        from_summary.map_or("absent".to_string(), |c| c.to_string()),
        s.below
    );
    let list = s.chains.sorted();
    if list.is_empty() {
        return;
    }
    h.push_str("<table><tr><th>member</th><th>representative</th><th>similarity</th></tr>");
    for c in &list {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.3}</td></tr>",
            id(&c.member),
            id(&c.rep),
            c.similarity()
        );
    }
    h.push_str("</table>");
    pairs(h, p, &list[..list.len().min(super::stats::SHOWN_CHAINS)]);
}

/// Each pair's texts in two columns, shared word 5-grams marked.
fn pairs(h: &mut String, p: &Page<'_>, list: &[&Pair]) {
    if p.src.inputs.is_empty() {
        return;
    }
    for pair in list {
        let (a, b) = (p.texts.texts.get(&pair.rep), p.texts.texts.get(&pair.member));
        let _ = write!(h, "<div class=\"pair\">");
        column(h, "representative", &pair.rep, a.map(|a| (a.as_str(), b.map(String::as_str))));
        let title = format!("member, similarity {:.3}", pair.similarity());
        column(h, &title, &pair.member, b.map(|b| (b.as_str(), a.map(String::as_str))));
        h.push_str("</div>");
    }
}

/// One text (cut to [`TEXT_BYTES`]) with the runs it shares with `other` marked.
fn column(h: &mut String, title: &str, doc: &str, text: Option<(&str, Option<&str>)>) {
    let _ = write!(h, "<div class=\"doc\"><b>{}: {}</b>", escape(title), escape(doc));
    match text {
        None => h.push_str("<span class=\"note\">(text not found in the inputs)</span>"),
        Some((text, other)) => {
            let runs = other.map(|o| shared_runs(text, o)).unwrap_or_default();
            let shown = cut(text, TEXT_BYTES);
            let mut at = 0;
            for (s, e) in runs.into_iter().filter(|r| r.0 < shown.len()) {
                let e = e.min(shown.len());
                h.push_str(&escape(&shown[at..s]));
                let _ = write!(h, "<mark>{}</mark>", escape(&shown[s..e]));
                at = e;
            }
            h.push_str(&escape(&shown[at..]));
            if shown.len() < text.len() {
                let _ = write!(
                    h,
                    "<span class=\"note\"> [&hellip; {} more bytes]</span>",
                    text.len() - shown.len()
                );
            }
        }
    }
    h.push_str("</div>");
}

/// The passages file: counts and the longest.
fn passages(h: &mut String, ps: &Passages) {
    let _ = write!(h, "<h2>Repeated passages</h2><p>{} passages, {} words.</p>", ps.count, ps.words);
    h.push_str("<table><tr><th>words</th><th>document</th><th>first seen in</th><th>excerpt</th></tr>");
    for r in ps.longest.sorted() {
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.words,
            id(&r.doc),
            id(&r.source_doc),
            escape(&r.text)
        );
    }
    h.push_str("</table>");
}

/// What the page could not show.
fn notes(h: &mut String, p: &Page<'_>) {
    let mut notes: Vec<String> = p.texts.notes.clone();
    if p.src.inputs.is_empty() {
        notes.push("No inputs were given (--inputs): texts are not shown.".into());
    }
    notes.push(format!(
        "Members of the largest clusters are those seen while the cluster was among the 64 largest so far; texts are cut to {TEXT_BYTES} bytes and ids to {} bytes.",
        super::stats::ID_BYTES
    ));
    h.push_str("<h2>Notes</h2><ul>");
    for n in notes {
        let _ = write!(h, "<li class=\"note\">{}</li>", escape(&n));
    }
    h.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_markup_text() {
        assert_eq!(escape("<script>a&b\"'</script>"), "&lt;script&gt;a&amp;b&quot;&#39;&lt;/script&gt;");
    }
}
