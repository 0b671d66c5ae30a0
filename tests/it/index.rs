use crate::*;

/// For the same documents in the same order, the index's verdicts agree with
/// `neardup dedup`'s clusters: a new page is its cluster's representative, a
/// near-duplicate names the representative (data/small.jsonl has no chains).
#[test]
fn index_verdicts_agree_with_dedup_clusters() {
    let input = data("small.jsonl");
    let out = run(&["dedup", s(&input), "--clusters", "-", "-q"]);
    let clusters = clusters(&String::from_utf8(out.stdout).unwrap());
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&input).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let index = neardup::Index::new(neardup::DedupBuilder::new().build().unwrap());
    for (rec, (id, rep, _)) in records.iter().zip(&clusters) {
        let verdict = index.insert(id, rec["text"].as_str().unwrap());
        match verdict {
            neardup::Verdict::New => assert_eq!(id, rep, "{id}"),
            neardup::Verdict::Duplicate { of, similarity } => {
                assert_eq!(&of, rep, "{id}");
                assert!(similarity >= 0.8);
            }
            v => panic!("{id}: {v:?}"),
        }
    }
    assert_eq!(index.len(), clusters.len());
}
