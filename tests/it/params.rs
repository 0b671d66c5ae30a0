//! `neardup params`: the S-curve table, and the warning of `dedup` that
//! points to it.

use crate::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

#[test]
fn params_prints_the_chosen_banding_first_and_marks_it() {
    let out = run(&["params", "--threshold", "0.8"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let used: Vec<&str> = text.lines().filter(|l| l.starts_with('>')).collect();
    assert_eq!(used.len(), 1, "{text}");
    assert!(used[0].contains("17 x 7") && used[0].contains("chosen for num_perm 128"), "{text}");
    assert!(text.contains("*0.80"), "{text}");
    let v = json(&run(&["params", "--threshold", "0.8", "--json"]));
    let sims: Vec<f64> = v["similarities"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(sims, vec![0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
    let settings = v["settings"].as_array().unwrap();
    let first = &settings[0];
    assert_eq!((first["bands"].as_u64(), first["rows"].as_u64()), (Some(17), Some(7)));
    assert_eq!(first["used"], true);
    // the S-curve at the threshold: 1 - (1 - 0.8^7)^17
    let p = 1.0 - (1.0 - 0.8f64.powi(7)).powi(17);
    assert!((first["p"][4].as_f64().unwrap() - p).abs() < 1e-12);
    assert!((first["false_negative_rate"].as_f64().unwrap() - (1.0 - p)).abs() < 1e-12);
    // half and twice the signature, and the same budget in other widths
    let labels: Vec<&str> = settings.iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert!(
        labels.contains(&"chosen for num_perm 64") && labels.contains(&"chosen for num_perm 256"),
        "{labels:?}"
    );
    assert!(labels.iter().any(|l| l.starts_with("119 slots, 8 rows")), "{labels:?}");
    assert_eq!(settings.iter().filter(|s| s["used"] == true).count(), 1);
}

#[test]
fn params_shows_a_hand_set_banding_and_refuses_an_oversized_one() {
    let v = json(&run(&["params", "--bands", "2", "--rows", "64", "--json"]));
    let first = &v["settings"][0];
    assert_eq!((first["bands"].as_u64(), first["rows"].as_u64()), (Some(2), Some(64)));
    assert_eq!((first["label"].as_str(), first["used"].as_bool()), (Some("set by hand"), Some(true)));
    assert!(first["midpoint"].as_f64().unwrap() > 0.95);
    let out = run(&["params", "--bands", "20", "--rows", "7"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exceeds num_perm"), "{}", stderr(&out));
}

#[test]
fn dedup_warns_about_a_far_hand_set_banding_and_points_to_params() {
    let input = data("small.jsonl");
    let out = run(&["dedup", s(&input), "--bands", "2", "--rows", "64", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("warning: bands x rows = 2 x 64"), "{err}");
    assert!(err.contains("midpoint at 0.98"), "{err}");
    assert!(err.contains("neardup params --threshold 0.8 --num-perm 128 --bands 2 --rows 64"), "{err}");
    // the chosen banding, or one near it, set by hand: no warning; one that
    // buckets far too much: a warning
    for (bands, rows, warns) in [("17", "7", false), ("18", "7", false), ("64", "2", true)] {
        let out = run(&["dedup", s(&input), "--bands", bands, "--rows", rows, "-q"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out).contains("warning"), warns, "{bands} x {rows}: {}", stderr(&out));
    }
    let out = run(&["dedup", s(&input), "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}
