//! Progress of the long steps, for a caller's display: a step's name, how
//! far it is and how far it goes. The library only reports; it draws
//! nothing.

use std::sync::Arc;

/// Where a long step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The step: `candidates` (band keys bucketed), `settle` (documents
    /// re-read for doubtful pairs), `star` (members placed in star
    /// clusters), `write` (documents written), or a tool's own step
    /// (`truth`, `gen`, `index`).
    pub phase: &'static str,
    /// Units done.
    pub done: u64,
    /// Units in all (0 when unknown).
    pub total: u64,
    /// What a unit is (`keys`, `docs`, `bytes`).
    pub unit: &'static str,
}

/// A receiver of [`Progress`] reports, called from any thread, often: it
/// should only store the numbers or update a display. The default reports
/// to nothing.
#[derive(Clone, Default)]
pub struct ProgressFn(Option<Arc<Report>>);

/// What a [`ProgressFn`] calls.
type Report = dyn Fn(&Progress) + Send + Sync;

impl ProgressFn {
    /// Report to `f`.
    pub fn new(f: impl Fn(&Progress) + Send + Sync + 'static) -> ProgressFn {
        ProgressFn(Some(Arc::new(f)))
    }

    /// Report that `phase` is at `done` of `total` `unit`s.
    pub fn report(&self, phase: &'static str, done: u64, total: u64, unit: &'static str) {
        if let Some(f) = &self.0 {
            f(&Progress { phase, done, total, unit });
        }
    }
}

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "ProgressFn(..)" } else { "ProgressFn(none)" })
    }
}
