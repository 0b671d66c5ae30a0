//! `neardup explain`: why two documents are, or are not, near-duplicates
//! under a run's parameters: their exact Jaccard and shared shingles, the
//! sketch estimate and its doubt band, the LSH bands that collided, the
//! passages they share, what `dedup` decides for the pair and, given a
//! run's clusters file, what that run did with each.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;
use neardup::kernel::{Judgement, Kernel};
use neardup::sketch::{Shingler, Tokenizer};
use neardup::{Dedup, Verify};

use super::{
    EXIT_INPUT, Failure, ParamArgs, ReadArgs, input_failure, inputs_complete, print_bad_records,
    read_options, with_progress,
};

/// Shared shingles shown as text.
const SHINGLES_SHOWN: usize = 10;

/// Shared passages shown in the text output (the JSON has them all).
const PASSAGES_SHOWN: usize = 5;

/// Characters of a passage's text shown.
const PREVIEW_CHARS: usize = 100;

#[derive(Args)]
pub(crate) struct ExplainArgs {
    /// The corpus (files or directories) followed by the ids of the two documents; with --text, two
    /// text files, each one document.
    #[arg(required = true, num_args = 2.., value_name = "CORPUS... ID_A ID_B")]
    args: Vec<String>,
    /// Compare two text files (each file is one document) instead of two records of a corpus.
    #[arg(long)]
    text: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    params: ParamArgs,
    /// The clusters file of a finished `dedup` run (JSON lines: id, cluster, similarity): say what
    /// that run did with the two documents.
    #[arg(long)]
    clusters: Option<PathBuf>,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
}

/// One of the two documents.
#[derive(Debug, serde::Serialize)]
struct Doc {
    id: String,
    /// Normalized words.
    words: usize,
    bytes: usize,
    /// Documents with this id in the corpus (the first is explained).
    occurrences: usize,
    #[serde(skip)]
    text: String,
}

/// The shingle sets.
#[derive(Debug, serde::Serialize)]
struct Shingles {
    kind: String,
    a: usize,
    b: usize,
    shared: usize,
    jaccard: f64,
    /// A few shared shingles, as the text of A they come from.
    examples: Vec<String>,
}

/// The signatures and the likeness rule.
#[derive(Debug, serde::Serialize)]
struct Sketch {
    samples_a: u32,
    samples_b: u32,
    /// The fewer of the two: the independent samples of the estimate.
    samples: u32,
    estimate: f64,
    /// sqrt(J (1 - J) / samples) at the exact Jaccard J.
    standard_error: f64,
    /// Half-width of the band around the threshold where the estimate is
    /// not trusted.
    doubt: f64,
    judgement: &'static str,
}

/// The LSH banding.
#[derive(Debug, serde::Serialize)]
struct Lsh {
    bands: u32,
    rows: u32,
    bands_chosen: bool,
    /// Indices of the bands whose keys are equal.
    collided: Vec<u32>,
    /// P(candidate | J) on the S-curve at the exact Jaccard.
    p_candidate: f64,
    candidate: bool,
}

/// A passage of B that also occurs in A.
#[derive(Debug, serde::Serialize)]
struct SharedPassage {
    words: usize,
    /// Word offsets (normalized words) where it starts in A and in B.
    a_word: usize,
    b_word: usize,
    /// Byte ranges in A and in B.
    a_bytes: [usize; 2],
    b_bytes: [usize; 2],
    text: String,
}

/// What `dedup` decides for the pair itself.
#[derive(Debug, serde::Serialize)]
struct Decision {
    candidate: bool,
    linked: bool,
    /// `empty`, `not_a_candidate`, `exact`, `estimate_sure`, `estimate_no`
    /// or `settled_exactly`.
    how: &'static str,
    reason: String,
}

/// One document's row of a clusters file.
#[derive(Debug, serde::Serialize)]
struct Member {
    cluster: String,
    similarity: f64,
    kept: bool,
    cluster_size: u64,
    why: String,
}

/// What a finished run did with the two.
#[derive(Debug, serde::Serialize)]
struct Clusters {
    path: String,
    a: Option<Member>,
    b: Option<Member>,
    same_cluster: bool,
    reason: String,
}

/// Everything `explain` prints.
#[derive(Debug, serde::Serialize)]
struct Explanation {
    a: Doc,
    b: Doc,
    params: neardup::Params,
    shingles: Shingles,
    sketch: Sketch,
    lsh: Lsh,
    passages: Vec<SharedPassage>,
    decision: Decision,
    #[serde(skip_serializing_if = "Option::is_none")]
    clusters: Option<Clusters>,
}

pub(crate) fn run(args: ExplainArgs) -> Result<(), Failure> {
    let (inputs, ids) = split_args(&args)?;
    let mut opts = read_options(&args.read);
    if args.text {
        opts.format = neardup::io::Format::Text;
    }
    let dedup = args.params.builder(&args.read).read_options(opts.clone()).build()?;
    let kernel = Kernel::new(dedup.clone());
    let files = neardup::io::expand_inputs(&inputs, opts.format).map_err(input_failure)?;
    let (a, b, failed) =
        if args.text { two_files(&kernel, &files)? } else { find_two(&kernel, &files, &ids)? };
    let mut e = explain(&dedup, &kernel, a, b)?;
    if let Some(path) = &args.clusters {
        e.clusters = Some(read_clusters(path, &e)?);
    }
    let out = if args.json {
        let mut t = serde_json::to_string_pretty(&e).context("encoding the explanation")?;
        t.push('\n');
        t
    } else {
        to_text(&e)
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing the explanation")?;
    inputs_complete(&failed)
}

/// The inputs and the two ids (with `--text`: the two files, no ids).
fn split_args(args: &ExplainArgs) -> Result<(Vec<PathBuf>, [String; 2]), Failure> {
    let usage = |msg: &str| Failure { code: EXIT_INPUT, error: anyhow!("{msg}") };
    let n = args.args.len();
    if args.text {
        if n != 2 {
            return Err(usage("--text takes exactly two text files"));
        }
        return Ok((args.args.iter().map(PathBuf::from).collect(), [String::new(), String::new()]));
    }
    if n < 3 {
        return Err(usage("give the corpus, then the ids of the two documents (or --text A.txt B.txt)"));
    }
    let inputs = args.args[..n - 2].iter().map(PathBuf::from).collect();
    Ok((inputs, [args.args[n - 2].clone(), args.args[n - 1].clone()]))
}

/// A document as read: its id and text.
fn doc(id: &str, text: String, occurrences: usize) -> Doc {
    let mut words = 0;
    Tokenizer::new().for_each_token(&text, |_, _, _| words += 1);
    Doc { id: id.to_owned(), words, bytes: text.len(), occurrences, text }
}

/// Stream the corpus once, keeping the first document of each id; a
/// missing id is an input error (exit 2) naming it.
fn find_two(
    kernel: &Kernel,
    files: &[neardup::io::InputFile],
    ids: &[String; 2],
) -> Result<(Doc, Doc, Vec<String>), Failure> {
    let mut found: [Option<String>; 2] = [None, None];
    let mut seen = [0usize; 2];
    let mut documents = 0u64;
    let report = with_progress(files, false, |progress| {
        let mut record = |id: &str, text: &str| {
            documents += 1;
            for i in 0..2 {
                if id == ids[i] {
                    seen[i] += 1;
                    found[i].get_or_insert_with(|| text.to_owned());
                }
            }
        };
        kernel.read_records(files, &mut record, progress)
    })?;
    print_bad_records(&report.bad, false);
    let [fa, fb] = found;
    let missing = |id: &str| Failure {
        code: EXIT_INPUT,
        error: anyhow!("no document with id {id:?} in the corpus ({documents} documents read)"),
    };
    let a = fa.ok_or_else(|| missing(&ids[0]))?;
    let b = fb.ok_or_else(|| missing(&ids[1]))?;
    Ok((doc(&ids[0], a, seen[0]), doc(&ids[1], b, seen[1]), report.failed))
}

/// The two documents of `--text`: each file is one.
fn two_files(kernel: &Kernel, files: &[neardup::io::InputFile]) -> Result<(Doc, Doc, Vec<String>), Failure> {
    let mut docs: Vec<(String, String)> = Vec::new();
    let report = with_progress(files, false, |progress| {
        kernel.read_records(files, &mut |id, text| docs.push((id.to_owned(), text.to_owned())), progress)
    })?;
    print_bad_records(&report.bad, false);
    if docs.len() != 2 {
        return Err(Failure {
            code: EXIT_INPUT,
            error: anyhow!(
                "--text takes two text files, one document each; they hold {} documents",
                docs.len()
            ),
        });
    }
    let mut it = docs.into_iter();
    let mut next = || it.next().map(|(id, text)| doc(&id, text, 1)).context("two documents");
    let (a, b) = (next()?, next()?);
    Ok((a, b, report.failed))
}

/// Everything about the pair but the clusters of a run.
fn explain(dedup: &Dedup, kernel: &Kernel, a: Doc, b: Doc) -> Result<Explanation, Failure> {
    let shingles = shingles(dedup, kernel, &a.text, &b.text);
    let signed = kernel.sign(&[Some(&a.text), Some(&b.text)]);
    let len = kernel.blob_len();
    let (blob_a, blob_b) = (&signed.blobs[..len], &signed.blobs[len..2 * len]);
    let (sa, sb) = (signed.samples[0], signed.samples[1]);
    let samples = sa.min(sb);
    let j = shingles.jaccard;
    let sketch = Sketch {
        samples_a: sa,
        samples_b: sb,
        samples,
        estimate: kernel.estimate(blob_a, sa, blob_b, sb)?,
        standard_error: (j * (1.0 - j) / f64::from(samples.max(1))).sqrt(),
        doubt: kernel.doubt(samples),
        judgement: judgement_name(kernel.judge(blob_a, sa, blob_b, sb)?),
    };
    let lsh = lsh(dedup, &signed.band_keys, samples, j);
    let passages = passages(&a.text, &b.text)?;
    let decision = decide(dedup, &sketch, &lsh, j);
    Ok(Explanation {
        a,
        b,
        params: dedup.params().clone(),
        shingles,
        sketch,
        lsh,
        passages,
        decision,
        clusters: None,
    })
}

fn judgement_name(j: Judgement) -> &'static str {
    match j {
        Judgement::Sure => "sure",
        Judgement::Doubtful => "doubtful",
        Judgement::No => "no",
        _ => "unknown",
    }
}

/// The exact shingle sets, their overlap, and a few shared shingles in the
/// order they come in A.
fn shingles(dedup: &Dedup, kernel: &Kernel, a: &str, b: &str) -> Shingles {
    let kind = dedup.sketch_params().shingle;
    let mut sh = Shingler::new(kind);
    let (x, y) = (sh.shingle_set(a), sh.shingle_set(b));
    let shared = x.iter().filter(|h| y.binary_search(h).is_ok()).count();
    let mut shown: Vec<u64> = Vec::new();
    let mut examples = Vec::new();
    sh.for_each(a, |s| {
        if examples.len() < SHINGLES_SHOWN && y.binary_search(&s.hash).is_ok() && !shown.contains(&s.hash) {
            shown.push(s.hash);
            examples.push(one_line(&a[s.start..s.end]));
        }
    });
    Shingles {
        kind: kind.to_string(),
        a: x.len(),
        b: y.len(),
        shared,
        jaccard: kernel.jaccard(a, b),
        examples,
    }
}

/// Text on one line: runs of whitespace as one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The bands whose keys are equal (none when a document has no shingles:
/// it is in no bucket).
fn lsh(dedup: &Dedup, keys: &[u64], samples: u32, j: f64) -> Lsh {
    let p = dedup.lsh_params();
    let bands = p.bands as usize;
    let collided: Vec<u32> = if samples == 0 {
        Vec::new()
    } else {
        (0..bands).filter(|&i| keys[i] == keys[bands + i]).map(|i| i as u32).collect()
    };
    Lsh {
        bands: p.bands,
        rows: p.rows,
        bands_chosen: dedup.lsh_chosen(),
        candidate: !collided.is_empty(),
        collided,
        p_candidate: p.probability(j),
    }
}

/// The passages of at least eight words of B that also occur in A, in B's
/// order, with word offsets.
fn passages(a: &str, b: &str) -> Result<Vec<SharedPassage>, Failure> {
    let finder = neardup::PassageBuilder::new().threads(1).build()?;
    let mut found = finder.find_against(&[b], &[a]);
    found.sort_by_key(|p| (p.start, p.source_start));
    let (wa, wb) = (word_starts(a), word_starts(b));
    let word = |starts: &[usize], at: usize| starts.partition_point(|&s| s < at);
    Ok(found
        .iter()
        .map(|p| SharedPassage {
            words: p.words,
            a_word: word(&wa, p.source_start),
            b_word: word(&wb, p.start),
            a_bytes: [p.source_start, p.source_end],
            b_bytes: [p.start, p.end],
            text: preview(&b[p.start..p.end]),
        })
        .collect())
}

/// Byte offsets where the normalized words of `text` start.
fn word_starts(text: &str) -> Vec<usize> {
    let mut v = Vec::new();
    Tokenizer::new().for_each_token(text, |_, s, _| v.push(s));
    v
}

/// The first [`PREVIEW_CHARS`] characters of `s`, on one line.
fn preview(s: &str) -> String {
    let line = one_line(s);
    match line.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// What `dedup` does with the pair: candidate or not, and how it is
/// verified.
fn decide(dedup: &Dedup, sketch: &Sketch, lsh: &Lsh, j: f64) -> Decision {
    let t = dedup.threshold();
    let cmp = |x: f64| if x >= t { ">=" } else { "<" };
    let collided = format!("{} of {} bands collided", lsh.collided.len(), lsh.bands);
    let (linked, how, reason) = if sketch.samples == 0 {
        (false, "empty", "a document without shingles is nobody's near-duplicate".to_owned())
    } else if !lsh.candidate {
        let why = format!(
            "not a candidate: none of the {} bands collided (P = {:.3} at J = {j:.3}), so the run never \
             compares them; they can still share a cluster through other documents",
            lsh.bands, lsh.p_candidate
        );
        (false, "not_a_candidate", why)
    } else if dedup.verify_mode() == Verify::Exact {
        let why =
            format!("a candidate ({collided}), verified exactly (verify exact): J = {j:.3} {} {t}", cmp(j));
        (j >= t, "exact", why)
    } else {
        estimated(t, sketch, &collided, j)
    };
    Decision { candidate: lsh.candidate, linked, how, reason }
}

/// The decision of estimate mode on a candidate.
fn estimated(t: f64, sketch: &Sketch, collided: &str, j: f64) -> (bool, &'static str, String) {
    let (e, d) = (sketch.estimate, sketch.doubt);
    match sketch.judgement {
        "sure" => {
            let why = format!(
                "a candidate ({collided}); estimate {e:.3} >= threshold + doubt = {:.3}: surely alike, linked \
                 without an exact check",
                t + d
            );
            (true, "estimate_sure", why)
        }
        "no" => {
            let why = format!(
                "a candidate ({collided}); estimate {e:.3} <= threshold - doubt = {:.3}: surely not alike, \
                 dropped without an exact check",
                t - d
            );
            (false, "estimate_no", why)
        }
        _ => {
            let why = format!(
                "a candidate ({collided}); estimate {e:.3} within {t} +/- {d:.3}: doubtful, settled by the exact \
                 Jaccard of the texts: {j:.3} {} {t}",
                if j >= t { ">=" } else { "<" }
            );
            (j >= t, "settled_exactly", why)
        }
    }
}

/// One row of a clusters file.
struct Row {
    cluster: String,
    similarity: f64,
}

/// Read a clusters file (JSON lines) for the two documents' rows and the
/// size of every cluster; say what the run did with them.
fn read_clusters(path: &Path, e: &Explanation) -> Result<Clusters, Failure> {
    let Scan { rows, sizes } = scan_clusters(path, [&e.a.id, &e.b.id])?;
    let t = e.params.threshold;
    let [ra, rb] = rows;
    let member = |id: &str, r: Option<Row>| {
        r.map(|r| {
            let size = sizes.get(&r.cluster).copied().unwrap_or(1);
            let kept = r.cluster == id;
            let why = if kept && size == 1 {
                "kept: a cluster of its own".to_owned()
            } else if kept {
                format!("kept: representative of a cluster of {size}")
            } else if r.similarity < t {
                format!(
                    "removed: similarity {:.3} to representative {}, below the threshold {t}: it joined through \
                     a chain of other documents",
                    r.similarity, r.cluster
                )
            } else {
                format!("removed: similarity {:.3} to representative {}", r.similarity, r.cluster)
            };
            Member { cluster: r.cluster, similarity: r.similarity, kept, cluster_size: size, why }
        })
    };
    let (a, b) = (member(&e.a.id, ra), member(&e.b.id, rb));
    let same = matches!((&a, &b), (Some(x), Some(y)) if x.cluster == y.cluster);
    let reason = cluster_reason(path, e, a.as_ref(), b.as_ref());
    Ok(Clusters { path: path.display().to_string(), a, b, same_cluster: same, reason })
}

/// Why the two are, or are not, in one cluster of the run.
fn cluster_reason(path: &Path, e: &Explanation, a: Option<&Member>, b: Option<&Member>) -> String {
    let (t, j) = (e.params.threshold, e.shingles.jaccard);
    let (Some(a), Some(b)) = (a, b) else {
        let id = if a.is_none() { &e.a.id } else { &e.b.id };
        return format!("{id:?} is not in {} (the clusters of another corpus?)", path.display());
    };
    if a.cluster == b.cluster {
        let head = format!("in the same cluster (representative {}, {} members)", a.cluster, a.cluster_size);
        if j < t {
            return format!("{head} although J = {j:.3} < {t}: linked through a chain of other documents");
        }
        if !e.decision.linked {
            return format!(
                "{head}; the pair itself is not linked ({}), other documents join them",
                e.decision.how
            );
        }
        return head;
    }
    if j < t {
        return format!("in different clusters: J = {j:.3} < {t}");
    }
    if !e.decision.candidate {
        return format!(
            "not in the same cluster although J = {j:.3} >= {t}: an LSH miss (no band collided; probability {:.3})",
            1.0 - e.lsh.p_candidate
        );
    }
    format!(
        "not in the same cluster although J = {j:.3} >= {t} and the pair is linked under these parameters: the \
         run had other parameters or another corpus, or a large bucket paired them through pivots only"
    )
}

/// What a clusters file says about two ids.
struct Scan {
    /// The first row of each id.
    rows: [Option<Row>; 2],
    /// Members of every cluster, by representative.
    sizes: HashMap<String, u64>,
}

/// The rows of `ids` in a clusters file and the size of every cluster.
fn scan_clusters(path: &Path, ids: [&str; 2]) -> Result<Scan, Failure> {
    let bad = |line: usize, why: &str| Failure {
        code: EXIT_INPUT,
        error: anyhow!(
            "{}:{line}: {why} (a clusters file is JSON lines of id, cluster, similarity)",
            path.display()
        ),
    };
    let unreadable = |e: std::io::Error| Failure {
        code: EXIT_INPUT,
        error: anyhow::Error::new(e).context(format!("reading the clusters file {}", path.display())),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut rows: [Option<Row>; 2] = [None, None];
    let mut sizes: HashMap<String, u64> = HashMap::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(unreadable)?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| bad(n + 1, &e.to_string()))?;
        let (Some(id), Some(cluster), Some(similarity)) =
            (v["id"].as_str(), v["cluster"].as_str(), v["similarity"].as_f64())
        else {
            return Err(bad(n + 1, "not a clusters row"));
        };
        *sizes.entry(cluster.to_owned()).or_default() += 1;
        for i in 0..2 {
            if id == ids[i] && rows[i].is_none() {
                rows[i] = Some(Row { cluster: cluster.to_owned(), similarity });
            }
        }
    }
    Ok(Scan { rows, sizes })
}

fn to_text(e: &Explanation) -> String {
    let mut s = String::new();
    let doc = |d: &Doc| {
        let dup = if d.occurrences > 1 {
            format!("; {} documents have this id, the first", d.occurrences)
        } else {
            String::new()
        };
        format!("{:?} ({} words, {} bytes{dup})", d.id, d.words, d.bytes)
    };
    let _ = writeln!(s, "documents   A = {}\n            B = {}", doc(&e.a), doc(&e.b));
    let chosen = if e.lsh.bands_chosen { "chosen from the threshold" } else { "set by hand" };
    let _ = writeln!(s, "parameters  {} (bands {chosen})", e.params.describe());
    text_shingles(&mut s, e);
    text_sketch(&mut s, e);
    text_passages(&mut s, e);
    let _ = writeln!(
        s,
        "decision    {}: {}",
        if e.decision.linked { "linked" } else { "not linked" },
        e.decision.reason
    );
    if let Some(c) = &e.clusters {
        let _ = writeln!(s, "run         {}", c.path);
        for (d, m) in [(&e.a, &c.a), (&e.b, &c.b)] {
            if let Some(m) = m {
                let _ = writeln!(s, "            {:?}: {}", d.id, m.why);
            }
        }
        let _ = writeln!(s, "            {}", c.reason);
    }
    s
}

fn text_shingles(s: &mut String, e: &Explanation) {
    let sh = &e.shingles;
    let union = sh.a + sh.b - sh.shared;
    let _ = writeln!(
        s,
        "shingles    {}: A {}, B {}, shared {} of {union}: exact Jaccard {:.3}",
        sh.kind, sh.a, sh.b, sh.shared, sh.jaccard
    );
    for x in &sh.examples {
        let _ = writeln!(s, "              shared: {x:?}");
    }
    if sh.shared > sh.examples.len() {
        let _ = writeln!(s, "              ... and {} more", sh.shared - sh.examples.len());
    }
}

fn text_sketch(s: &mut String, e: &Explanation) {
    let (k, l, t) = (&e.sketch, &e.lsh, e.params.threshold);
    if k.samples == 0 {
        let _ = writeln!(s, "sketch      no samples: a document without shingles has an empty signature");
    } else {
        let _ = writeln!(
            s,
            "sketch      estimate {:.3} from {} samples (A {}, B {}); standard error {:.3} at J = {:.3}; doubt band \
         {t} +/- {:.3}: {}",
            k.estimate,
            k.samples,
            k.samples_a,
            k.samples_b,
            k.standard_error,
            e.shingles.jaccard,
            k.doubt,
            k.judgement
        );
    }
    let list = l.collided.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        s,
        "LSH         {} of {} bands x {} rows collided{}; P(candidate | J = {:.3}) = {:.3}",
        l.collided.len(),
        l.bands,
        l.rows,
        if list.is_empty() { String::new() } else { format!(" ({list})") },
        e.shingles.jaccard,
        l.p_candidate
    );
}

fn text_passages(s: &mut String, e: &Explanation) {
    let n = e.passages.len();
    let _ = writeln!(
        s,
        "passages    {n} shared passage{} of at least {} words",
        if n == 1 { "" } else { "s" },
        neardup::PassageBuilder::DEFAULT_MIN_WORDS
    );
    for p in e.passages.iter().take(PASSAGES_SHOWN) {
        let _ = writeln!(
            s,
            "              A words {}-{} = B words {}-{} ({} words): {:?}",
            p.a_word,
            p.a_word + p.words,
            p.b_word,
            p.b_word + p.words,
            p.words,
            p.text
        );
    }
    if n > PASSAGES_SHOWN {
        let _ = writeln!(s, "              ... and {} more (--json lists them all)", n - PASSAGES_SHOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_cut_on_a_character() {
        let long = "é".repeat(PREVIEW_CHARS + 5);
        let p = preview(&long);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 3);
        assert_eq!(preview("a \n b"), "a b");
    }
}
