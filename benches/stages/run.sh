#!/bin/bash
# The stage commands against dedup on one corpus cut into SHARDS shards:
# time and peak RSS of each step, and a check that the kept records are
# dedup's byte for byte.
#   bash benches/stages/run.sh CORPUS.jsonl [SHARDS] [WORKDIR]
set -euo pipefail
corpus=$(realpath "$1")
shards=${2:-8}
work=${3:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
N="$root/target/release/neardup"
T="/usr/bin/time -f %e_s_%M_KB"
mkdir -p "$work/in" && cd "$work/in"
rm -f shard-*.jsonl && split -n "l/$shards" -d -a 3 --additional-suffix=.jsonl "$corpus" shard-
S="$work/out"; rm -rf "$S"; mkdir -p "$S"
half=$((shards / 2))
first=$(ls shard-*.jsonl | head -n "$half"); rest=$(ls shard-*.jsonl | tail -n +"$((half + 1))")
echo "dedup:           $($T "$N" dedup shard-*.jsonl -o "$S/dedup.jsonl" -q 2>&1 | tail -1)"
echo "sign (1st half): $($T "$N" sign $first -o "$S/bands" -q 2>&1 | tail -1)"
echo "sign (2nd half): $($T "$N" sign $rest -o "$S/bands" --first-shard "$half" -q 2>&1 | tail -1)"
echo "link --texts:    $($T "$N" link "$S/bands" -o "$S/edges" --texts shard-*.jsonl -q 2>&1 | tail -1)"
echo "link (no texts): $($T "$N" link "$S/bands" -o "$S/edges-est" -q 2>&1 | tail -1)"
echo "components:      $($T "$N" components "$S/edges" -o "$S/comps" -q 2>&1 | tail -1)"
echo "filter (all):    $($T bash -c "for f in shard-*.jsonl; do $N filter \$f --components $S/comps -o $S/kept-\$f -q; done" 2>&1 | tail -1)"
cat "$S"/kept-shard-*.jsonl | cmp - "$S/dedup.jsonl" && echo "kept records identical to dedup's"
du -sh "$S/bands"
