//! The deduplication pipeline, written once for every storage:
//!
//! read -> sketch ([`signatures`]) -> bucket ([`bucket`]) -> verify
//! ([`verify`]) -> cluster ([`cluster`]) -> write (`io`).
//!
//! Each step sees its storage through one trait: signatures in memory or in
//! spill files ([`signatures::Signatures`]), buckets sorted in memory or
//! merged from sorted runs ([`bucket::Buckets`]), texts for exact checks from
//! the loaded inputs, from records re-read by position, or none
//! ([`verify::TextSource`]). `dedup` in memory, `dedup --max-memory` and the
//! `link` stage are drivers that choose the storages and call [`run`].

pub(crate) mod bucket;
pub(crate) mod cluster;
pub(crate) mod signatures;
pub(crate) mod verify;

use std::time::Instant;

use crate::error::Result;
use crate::progress::ProgressFn;
use bucket::Buckets;
use cluster::{Clustering, Shape};
use signatures::Signatures;
use verify::{Linker, Plan, Rule, TextSource};

/// Bucket, verify and cluster: every batch of buckets gives candidate
/// pairs, verified as they come; then the clusters, shaped by `shape`.
pub(crate) fn run(
    rule: &Rule,
    sigs: &(impl Signatures + ?Sized),
    buckets: &mut dyn Buckets,
    texts: &(impl TextSource + ?Sized),
    plan: Plan,
    shape: Shape<'_>,
    progress: &ProgressFn,
) -> Result<Clustering> {
    let t = Instant::now();
    let mut linker = Linker::new(*rule, sigs, texts, plan, progress);
    buckets.for_each_batch(&mut |batch, (done, total)| {
        let mut pairs = bucket::batch_pairs(rule, sigs, batch)?;
        linker.push(&mut pairs)?;
        progress.report("candidates", done, total, "keys");
        Ok(())
    })?;
    let (uf, mut stats) = linker.finish()?;
    stats.candidates_time = t.elapsed().saturating_sub(stats.verify_time);
    cluster::finish(uf, rule, sigs, texts, shape, stats, progress)
}
