//! `neardup params`: the LSH S-curve of the banding `dedup` would use, next
//! to a few others, so that a banding can be chosen (or a hand-set one
//! judged) before a run.

use std::fmt::Write as _;

use anyhow::Context;
use clap::Args;
use neardup::DedupBuilder;
use neardup::sketch::LshParams;

use super::Failure;

#[derive(Args)]
pub(crate) struct ParamsArgs {
    /// Jaccard similarity at or above which documents are near-duplicates.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// Signature size.
    #[arg(long, default_value_t = 128)]
    num_perm: u32,
    /// LSH bands of a hand-set banding to show too (with --rows).
    #[arg(long, requires = "rows")]
    bands: Option<u32>,
    /// LSH rows per band of the hand-set banding (with --bands).
    #[arg(long, requires = "bands")]
    rows: Option<u32>,
    /// Print the table as JSON.
    #[arg(long)]
    json: bool,
}

/// One banding of the table.
#[derive(serde::Serialize)]
struct Setting {
    /// Where it comes from, in words.
    label: String,
    /// Signature size it needs at least (the chosen ones: the size it was
    /// chosen for).
    num_perm: u32,
    bands: u32,
    rows: u32,
    /// True for the banding `dedup` uses with these flags.
    used: bool,
    /// Similarity where the S-curve crosses 1/2.
    midpoint: f64,
    /// Probability that a pair exactly at the threshold is not a candidate.
    false_negative_rate: f64,
    /// P(candidate | J = s) at each of the table's similarities.
    p: Vec<f64>,
}

/// The whole table.
#[derive(serde::Serialize)]
struct Table {
    threshold: f64,
    num_perm: u32,
    similarities: Vec<f64>,
    settings: Vec<Setting>,
}

pub(crate) fn run(args: ParamsArgs) -> Result<(), Failure> {
    let table = table(&args)?;
    let text = if args.json {
        let mut t = serde_json::to_string_pretty(&table).context("encoding the table")?;
        t.push('\n');
        t
    } else {
        to_text(&table)
    };
    use std::io::Write;
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing the table")?;
    Ok(())
}

/// The banding `dedup` chooses for `threshold` and `num_perm` (the builder's
/// own choice, so that this table never drifts from a run).
fn chosen(threshold: f64, num_perm: u32) -> neardup::Result<LshParams> {
    Ok(DedupBuilder::new().threshold(threshold).num_perm(num_perm).params()?.lsh)
}

/// The similarities of the columns: fixed points, and the threshold with
/// its neighbours; ascending, each once, inside [0, 1].
fn similarities(threshold: f64) -> Vec<f64> {
    let mut s: Vec<f64> = [0.5, 0.6, 0.7, threshold - 0.05, threshold, threshold + 0.05, 0.9, 0.95]
        .into_iter()
        .filter(|s| (0.0..=1.0).contains(s))
        // 0.8 - 0.05 is 0.75000000000000001: print and compare it as 0.75
        .map(|s| (s * 1e6).round() / 1e6)
        .collect();
    s.sort_by(f64::total_cmp);
    s.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    s
}

fn setting(
    label: String,
    num_perm: u32,
    lsh: LshParams,
    used: bool,
    threshold: f64,
    sims: &[f64],
) -> Setting {
    Setting {
        label,
        num_perm,
        bands: lsh.bands,
        rows: lsh.rows,
        used,
        midpoint: lsh.midpoint(),
        false_negative_rate: 1.0 - lsh.probability(threshold),
        p: sims.iter().map(|&s| lsh.probability(s)).collect(),
    }
}

/// The rows: the banding in use (hand-set, when given, then the chosen
/// one), the chosen ones for half and twice the signature size, and the
/// chosen banding's budget of slots cut into bands of other widths.
fn table(args: &ParamsArgs) -> Result<Table, Failure> {
    let (t, n) = (args.threshold, args.num_perm);
    let sims = similarities(t);
    let best = chosen(t, n)?;
    let mut settings = Vec::new();
    let hand = match (args.bands, args.rows) {
        (Some(bands), Some(rows)) => {
            // the builder checks a hand-set banding as dedup does
            DedupBuilder::new().threshold(t).num_perm(n).banding(bands, rows).params()?;
            Some(LshParams { bands, rows })
        }
        _ => None,
    };
    if let Some(h) = hand {
        settings.push(setting("set by hand".into(), n, h, true, t, &sims));
    }
    settings.push(setting(format!("chosen for num_perm {n}"), n, best, hand.is_none(), t, &sims));
    for other in [n / 2, n.saturating_mul(2)] {
        if other >= 1 && other != n {
            settings.push(setting(
                format!("chosen for num_perm {other}"),
                other,
                chosen(t, other)?,
                false,
                t,
                &sims,
            ));
        }
    }
    let budget = best.bands * best.rows;
    for rows in [best.rows.saturating_sub(2), best.rows.saturating_sub(1), best.rows + 1, best.rows + 2] {
        if rows == 0 || rows > budget {
            continue;
        }
        let lsh = LshParams { bands: budget / rows, rows };
        let label = format!("{budget} slots, {rows} rows a band");
        settings.push(setting(label, lsh.bands * lsh.rows, lsh, false, t, &sims));
    }
    // a banding listed twice (the hand-set one may be a chosen one) once
    let mut seen = Vec::new();
    settings.retain(|s| {
        let key = (s.bands, s.rows);
        let fresh = !seen.contains(&key);
        seen.push(key);
        fresh
    });
    Ok(Table { threshold: t, num_perm: n, similarities: sims, settings })
}

fn to_text(table: &Table) -> String {
    let mut out = String::new();
    let t = table.threshold;
    let _ = writeln!(
        out,
        "P(candidate | J = s) = 1 - (1 - s^rows)^bands, threshold {t}, num_perm {} (* marks the threshold; \
         > the banding dedup uses with these flags)",
        table.num_perm
    );
    let _ = write!(out, "  {:<28} {:>12} {:>8} {:>7}", "setting", "bands x rows", "midpoint", "FN@t");
    for &s in &table.similarities {
        let mark = if (s - t).abs() < 1e-9 { "*" } else { "" };
        let _ = write!(out, " {:>7}", format!("{mark}{s:.2}"));
    }
    out.push('\n');
    for s in &table.settings {
        let _ = write!(
            out,
            "{} {:<28} {:>12} {:>8.3} {:>7.3}",
            if s.used { ">" } else { " " },
            s.label,
            format!("{} x {}", s.bands, s.rows),
            s.midpoint,
            s.false_negative_rate
        );
        for p in &s.p {
            let _ = write!(out, " {p:>7.3}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_hold_the_threshold_and_its_neighbours_once() {
        assert_eq!(similarities(0.8), vec![0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
        assert_eq!(similarities(0.9), vec![0.5, 0.6, 0.7, 0.85, 0.9, 0.95]);
        assert_eq!(similarities(1.0), vec![0.5, 0.6, 0.7, 0.9, 0.95, 1.0]);
    }
}
