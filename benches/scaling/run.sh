#!/usr/bin/env bash
# Scaling run: neardup dedup on generated corpora of 100 MB, 1 GB and 10 GB, 1 and 2 threads.
# Usage: bash benches/scaling/run.sh SEED_CORPUS [WORK_DIR] [SIZES...]
#   SEED_CORPUS: real text for `neardup gen` (e.g. dev_neardup.jsonl from ../shared/corpora)
#   WORK_DIR: where the generated corpora go (default /tmp/neardup-scaling; needs ~12 GB free)
# Writes benches/scaling/results.csv and the SVG plots beside this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:?usage: run.sh SEED_CORPUS [WORK_DIR] [SIZES...]}
work=${2:-/tmp/neardup-scaling}
shift $(( $# >= 2 ? 2 : 1 ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100M 1G 10G)
bin="$here/../../target/release/neardup"
cargo build --release --quiet --manifest-path "$here/../../Cargo.toml"
mkdir -p "$work"
out="$here/results.csv"
echo "size,threads,documents,bytes,seconds,mb_per_s,peak_rss_bytes,duplicates" > "$out"
for size in "${sizes[@]}"; do
  corpus="$work/gen-$size.jsonl"
  [ -s "$corpus" ] || "$bin" gen "$seed" --size "$size" -o "$corpus" --planted "$work/gen-$size.planted.jsonl"
  for threads in 1 2; do
    sum="$work/summary-$size-$threads.json"
    "$bin" dedup "$corpus" --threads "$threads" --clusters "$work/clusters-$size-$threads.jsonl" \
      --summary-json "$sum" -q
    python3 - "$size" "$threads" "$sum" >> "$out" <<'PY'
import json, sys
size, threads, path = sys.argv[1:4]
s = json.load(open(path))
print(",".join(str(x) for x in [size, threads, s["documents"], s["input_bytes"], round(s["seconds"]["total"], 3),
                                round(s["mb_per_s"], 1), s["peak_rss_bytes"], s["duplicates"]]))
PY
    tail -n 1 "$out"
  done
done
python3 "$here/plot.py" "$out" "$here"
