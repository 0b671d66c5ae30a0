//! The worker pool a deduplicator or passage finder runs on: its own rayon
//! pool when a thread count was set, else rayon's global pool.

use std::sync::Arc;

use crate::error::{Error, Result};

/// A thread pool choice, cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pool(Option<Arc<rayon::ThreadPool>>);

impl Pool {
    /// `Some(n)`: a pool of `n` threads (n >= 1); `None`: the global pool.
    pub(crate) fn new(threads: Option<usize>) -> Result<Pool> {
        match threads {
            Some(0) => Err(Error::param("threads must be at least 1")),
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map(|p| Pool(Some(Arc::new(p))))
                .map_err(|e| Error::param(format!("cannot start {n} threads: {e}"))),
            None => Ok(Pool(None)),
        }
    }

    /// Run `f` on the pool.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.0 {
            Some(p) => p.install(f),
            None => f(),
        }
    }

    /// Worker threads.
    pub(crate) fn threads(&self) -> usize {
        match &self.0 {
            Some(p) => p.current_num_threads(),
            None => rayon::current_num_threads(),
        }
    }
}
