#!/bin/bash
# Every way of deduplicating one corpus, with one binary: the clusters and the
# kept records of dedup in memory, dedup --max-memory (64M), and the stage
# commands (sign in two calls, link --texts, components, filter), written into
# OUT. Two trees compare by running this with each binary and `diff -r`:
#   bash benches/equiv/run.sh BINARY CORPUS.jsonl OUT [SHARDS]
set -euo pipefail
N=$(realpath "$1"); corpus=$(realpath "$2"); out=$3; shards=${4:-3}
rm -rf "$out"; mkdir -p "$out/in" "$out/work"; out=$(realpath "$out")
cd "$out/in"
split -n "l/$shards" -d -a 3 --additional-suffix=.jsonl "$corpus" shard-
half=$((shards / 2))
first=$(ls shard-*.jsonl | head -n "$half"); rest=$(ls shard-*.jsonl | tail -n +"$((half + 1))")
"$N" dedup shard-*.jsonl --clusters "$out/mem.clusters.jsonl" -o "$out/mem.kept.jsonl" -q
"$N" dedup shard-*.jsonl --max-memory 64M --spill-dir "$out/work" \
  --clusters "$out/spill.clusters.jsonl" -o "$out/spill.kept.jsonl" -q
"$N" sign $first -o "$out/work/bands" -q
"$N" sign $rest -o "$out/work/bands" --first-shard "$half" -q
"$N" link "$out/work/bands" -o "$out/work/edges" --texts shard-*.jsonl -q
"$N" components "$out/work/edges" -o "$out/work/comps" -q
for f in shard-*.jsonl; do "$N" filter "$f" --components "$out/work/comps" -o "$out/stage.kept-$f" -q; done
cat "$out"/stage.kept-shard-*.jsonl > "$out/stage.kept.jsonl"; rm "$out"/stage.kept-shard-*.jsonl
rm -rf "$out/in" "$out/work"
cmp "$out/mem.kept.jsonl" "$out/spill.kept.jsonl"
cmp "$out/mem.kept.jsonl" "$out/stage.kept.jsonl"
cmp "$out/mem.clusters.jsonl" "$out/spill.clusters.jsonl"
wc -l "$out"/*.jsonl
