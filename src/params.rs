//! The parameters that decide deduplication results, in one versioned type
//! with a fingerprint: what the index file, the stage files' footers, the
//! work directory's name and the summary record of a run.

use crate::dedup::{DedupBuilder, Verify};
use crate::lsh::LshParams;
use crate::pipeline::cluster::{ClusterMode, Keep};
use crate::sketch::SketchParams;

/// Version of the [`Params`] layout (bump when a field is added or its
/// meaning changes; the fingerprint changes with it).
pub(crate) const PARAMS_VERSION: u32 = 2;

/// Everything that decides which documents are near-duplicates: sketching
/// (with its shingles), banding, threshold and verification. Made by
/// [`DedupBuilder::params`] or [`Dedup::params`](crate::Dedup::params);
/// [`Params::builder`] leads back to a builder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Params {
    /// [`Params::VERSION`] when these were made.
    pub version: u32,
    /// Jaccard similarity at or above which two documents are near-duplicates.
    pub threshold: f64,
    /// How signatures are made (and the text shingled).
    pub sketch: SketchParams,
    /// Bands x rows.
    pub lsh: LshParams,
    /// How candidate pairs are verified.
    pub verify: Verify,
    /// How clusters are made of the verified pairs (version 1 made
    /// connected components, which is what a version 1 record reads as).
    #[serde(default = "components")]
    pub cluster: ClusterMode,
    /// Which document of a cluster is kept.
    #[serde(default)]
    pub keep: Keep,
}

/// What parameters without a cluster mode (version 1) made.
fn components() -> ClusterMode {
    ClusterMode::Components
}

impl Params {
    /// Version of the parameters layout (bump when a field is added or its
    /// meaning changes; the fingerprint changes with it).
    pub const VERSION: u32 = PARAMS_VERSION;

    /// A short, stable digest of the parameters (`ndp1-` and 16 hex
    /// digits): equal fingerprints mean equal parameters.
    pub fn fingerprint(&self) -> String {
        digest(self.version, self)
    }

    /// A builder with these parameters (bands x rows set by hand, as they
    /// were chosen), for everything else its defaults.
    pub fn builder(&self) -> DedupBuilder {
        DedupBuilder::new()
            .threshold(self.threshold)
            .shingle(self.sketch.shingle)
            .sketch(self.sketch.kind)
            .num_perm(self.sketch.num_perm)
            .seed(self.sketch.seed)
            .banding(self.lsh.bands, self.lsh.rows)
            .verify(self.verify)
            .cluster(self.cluster)
            .keep(self.keep.clone())
    }

    /// The parameters in words, for messages.
    pub fn describe(&self) -> String {
        format!(
            "threshold {}, {}, {} x {}, seed {}, {} x {} bands, verify {}, {} clusters, keep {}",
            self.threshold,
            self.sketch.shingle,
            self.sketch.kind,
            self.sketch.num_perm,
            self.sketch.seed,
            self.lsh.bands,
            self.lsh.rows,
            match self.verify {
                Verify::Estimate => "estimate",
                Verify::Exact => "exact",
            },
            self.cluster,
            self.keep
        )
    }
}

/// `ndp{version}-` and the xxh3 of `value`'s JSON.
pub(crate) fn digest(version: u32, value: &impl serde::Serialize) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    format!("ndp{version}-{:016x}", xxhash_rust::xxh3::xxh3_64(json.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::ShingleKind;

    #[test]
    fn version_1_parameters_read_as_connected_components() {
        let v1 = r#"{"version":1,"threshold":0.8,"sketch":{"kind":"oph","num_perm":128,"seed":0,"shingle":{"word":5},"version":1},"lsh":{"bands":17,"rows":7},"verify":"estimate"}"#;
        let p: Params = serde_json::from_str(v1).unwrap();
        assert_eq!((p.cluster, p.keep), (ClusterMode::Components, Keep::First));
        let p: Params =
            serde_json::from_str(&v1.replace("\"estimate\"", "\"estimate\",\"keep\":{\"max\":\"ts\"}"))
                .unwrap();
        assert_eq!(p.keep, Keep::Max("ts".into()));
    }

    #[test]
    fn the_way_back_gives_the_same_parameters() {
        let b = DedupBuilder::new()
            .threshold(0.7)
            .shingle(ShingleKind::Char(4))
            .seed(9)
            .verify(Verify::Exact)
            .cluster(ClusterMode::Components)
            .keep(Keep::Min("rank".into()));
        let p = b.params().unwrap();
        assert_eq!(p.builder().params().unwrap(), p);
        assert_eq!(p.builder().params().unwrap().fingerprint(), p.fingerprint());
        let q = DedupBuilder::new().threshold(0.7).shingle(ShingleKind::Char(4)).seed(10).params().unwrap();
        assert_ne!(p.fingerprint(), q.fingerprint());
    }

    /// The fingerprint of the defaults is pinned: it names work directories
    /// and is checked in every stage file, so it must not drift.
    #[test]
    fn the_default_fingerprint_is_stable() {
        let p = DedupBuilder::new().params().unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"version":2,"threshold":0.8,"sketch":{"kind":"oph","num_perm":128,"seed":0,"shingle":{"word":5},"version":2},"lsh":{"bands":17,"rows":7},"verify":"estimate","cluster":"star","keep":"first"}"#
        );
        assert_eq!(p.fingerprint(), digest(2, &p));
        assert!(p.fingerprint().starts_with("ndp2-"));
    }
}
