//! Exact ground truth for repeated passages, by brute force: which tokens of
//! each document lie in a run of at least `min_words` normalized tokens that
//! occurs earlier (in the same document, apart from it, or in an earlier
//! document; within its own document only; or in the references), and the
//! token precision and recall of passages found against it.

use std::collections::HashMap;

use crate::normalize::Tokenizer;
use crate::passage::{Passage, Scope};

/// For every document of `texts`, one flag per normalized token: whether it
/// lies in a run of `min_words` tokens that occurs earlier, as `scope` says
/// (or, with `references`, in one of them). Runs are compared by their
/// tokens' text, with no hashing shortcut.
pub fn repeated_tokens<S: AsRef<str>, R: AsRef<str>>(
    texts: &[S],
    min_words: usize,
    scope: Scope,
    references: Option<&[R]>,
) -> Vec<Vec<bool>> {
    let mut tk = Tokenizer::new();
    let mut words = |t: &str| -> Vec<String> { tk.tokens(t).into_iter().map(|t| t.text).collect() };
    let mw = min_words.max(1);
    // earliest (document, position) of every run; references are documents
    // numbered before the texts
    let mut first: HashMap<Vec<String>, (usize, usize)> = HashMap::new();
    let n_ref = references.map_or(0, |r| r.len());
    for (d, t) in references.into_iter().flatten().enumerate() {
        let w = words(t.as_ref());
        for q in 0..(w.len() + 1).saturating_sub(mw) {
            first.entry(w[q..q + mw].to_vec()).or_insert((d, q));
        }
    }
    let mut out = Vec::with_capacity(texts.len());
    for (i, t) in texts.iter().enumerate() {
        let d = n_ref + i;
        let w = words(t.as_ref());
        let mut flags = vec![false; w.len()];
        let mut own: HashMap<&[String], usize> = HashMap::new();
        for q in 0..(w.len() + 1).saturating_sub(mw) {
            let run = &w[q..q + mw];
            let earlier_in_doc = own.get(run).is_some_and(|&p| p + mw <= q);
            let repeated = match (references.is_some(), scope) {
                (true, _) => first.get(run).is_some_and(|&(sd, _)| sd < n_ref),
                (false, Scope::Within) => earlier_in_doc,
                (false, Scope::Corpus) => earlier_in_doc || first.get(run).is_some_and(|&(sd, _)| sd < d),
            };
            if repeated {
                flags[q..q + mw].iter_mut().for_each(|f| *f = true);
            }
            own.entry(run).or_insert(q);
        }
        if references.is_none() {
            for q in 0..(w.len() + 1).saturating_sub(mw) {
                first.entry(w[q..q + mw].to_vec()).or_insert((d, q));
            }
        }
        out.push(flags);
    }
    out
}

/// Token counts of passages against [`repeated_tokens`]: tokens flagged by
/// both, by the passages only, by the truth only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct TokenScores {
    /// Tokens in a passage and in the truth.
    pub both: u64,
    /// Tokens in a passage only.
    pub found_only: u64,
    /// Tokens in the truth only (missed).
    pub truth_only: u64,
}

impl TokenScores {
    /// Of the tokens in passages, the share the truth holds.
    pub fn precision(&self) -> f64 {
        let f = self.both + self.found_only;
        if f == 0 { 1.0 } else { self.both as f64 / f as f64 }
    }

    /// Of the tokens in the truth, the share passages hold.
    pub fn recall(&self) -> f64 {
        let t = self.both + self.truth_only;
        if t == 0 { 1.0 } else { self.both as f64 / t as f64 }
    }
}

/// Score `passages` (of `texts`, as a finder reports them) against `truth`
/// (from [`repeated_tokens`] of the same texts): a token is found when its
/// span lies inside a passage's bytes.
pub fn score_passages<S: AsRef<str>>(texts: &[S], passages: &[Passage], truth: &[Vec<bool>]) -> TokenScores {
    let mut tk = Tokenizer::new();
    let mut s = TokenScores::default();
    let mut by_doc: Vec<(u32, usize, usize)> = passages.iter().map(|p| (p.doc, p.start, p.end)).collect();
    by_doc.sort_unstable();
    let mut next = 0;
    for (d, t) in texts.iter().enumerate() {
        let from = next;
        while next < by_doc.len() && by_doc[next].0 as usize == d {
            next += 1;
        }
        let ranges = &by_doc[from..next];
        // tokens and ranges both in start order: a token is found when the
        // ranges starting at or before it reach its end
        let (mut r, mut reach) = (0, 0);
        for (i, tok) in tk.tokens(t.as_ref()).iter().enumerate() {
            while r < ranges.len() && ranges[r].1 <= tok.start {
                reach = reach.max(ranges[r].2);
                r += 1;
            }
            let found = reach >= tok.end;
            match (found, truth[d].get(i).copied().unwrap_or(false)) {
                (true, true) => s.both += 1,
                (true, false) => s.found_only += 1,
                (false, true) => s.truth_only += 1,
                (false, false) => {}
            }
        }
    }
    s
}
