#!/usr/bin/env bash
# Scaling run: neardup dedup on corpora of the realistic generator (`neardup gen`, Markov style), 2 threads.
# Usage: bash benches/scaling/run.sh SEED_CORPUS [WORK_DIR] [SPEC...]
#   SEED_CORPUS: real text for `neardup gen` (e.g. dev_neardup.jsonl from ../shared/corpora)
#   WORK_DIR: where the generated corpora and spill directories go (default /tmp/neardup-scaling)
#   SPEC: SIZE for an in-memory run, SIZE:BUDGET for `--max-memory BUDGET` (default: 100M 1G 10G 30G:4G;
#         the default needs ~45 GB free, of which 30 GB for the largest corpus and ~8 GB for its spill)
#   RUNS (environment): runs per spec for corpora under 2 GB, the median by total time is kept (default 3);
#   larger corpora run once. KEEP=1 keeps the generated corpora (they are deleted after their runs).
# Writes benches/scaling/results.csv and the SVG plots beside this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seed=${1:?usage: run.sh SEED_CORPUS [WORK_DIR] [SPEC...]}
work=${2:-/tmp/neardup-scaling}
shift $(( $# >= 2 ? 2 : 1 ))
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(100M 1G 10G 30G:4G)
runs=${RUNS:-3}
bin="$here/../../target/release/neardup"
cargo build --release --quiet --manifest-path "$here/../../Cargo.toml"
mkdir -p "$work"
out="$here/results.csv"
echo "size,mode,documents,bytes,read_sketch_s,candidates_s,verify_s,cluster_s,write_s,total_s,mb_per_s,peak_rss_bytes,bytes_per_doc,candidate_pairs,exact_checks,duplicates,removed_fraction,spill_bytes" > "$out"
for spec in "${specs[@]}"; do
  size=${spec%%:*}
  budget=$([ "$spec" != "$size" ] && echo "${spec#*:}" || echo "")
  corpus="$work/gen-$size.jsonl"
  [ -s "$corpus" ] || "$bin" gen "$seed" --size "$size" -o "$corpus" --planted "$work/gen-$size.planted.jsonl"
  bytes=$(stat -L -c %s "$corpus")
  n=$(( bytes < 2000000000 ? runs : 1 ))
  sums=()
  for i in $(seq "$n"); do
    sum="$work/summary-$spec-$i.json"
    if [ -n "$budget" ]; then
      rm -rf "$work/spill"
      "$bin" dedup "$corpus" --max-memory "$budget" --spill-dir "$work/spill" \
        --clusters "$work/clusters-$size.jsonl" --summary-json "$sum" -q
      rm -rf "$work/spill"
    else
      "$bin" dedup "$corpus" --clusters "$work/clusters-$size.jsonl" --summary-json "$sum" -q
    fi
    sums+=("$sum")
  done
  python3 - "$size" "${budget:-memory}" "${sums[@]}" >> "$out" <<'PY'
import json, re, sys
size, mode, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = sorted((json.load(open(p)) for p in paths), key=lambda s: s["seconds"]["total"])
s = runs[len(runs) // 2]
def parse(v):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)", v)
    return float(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]
# memory beyond what the run is allowed: the mapped input in memory, the budget when spilled
beyond = s["peak_rss_bytes"] - (s["input_bytes"] if mode == "memory" else parse(mode))
sec = s["seconds"]
spill = (s.get("spill") or {}).get("bytes", 0)
print(",".join(str(x) for x in [
    size, "memory" if mode == "memory" else "max-memory " + mode, s["documents"], s["input_bytes"],
    *(round(sec[k], 2) for k in ("read_sketch", "candidates", "verify", "cluster", "write", "total")),
    round(s["mb_per_s"], 1), s["peak_rss_bytes"], round(beyond / max(s["documents"], 1)),
    s["candidate_pairs"], s["exact_checks"], s["duplicates"], round(s["duplicates"] / max(s["documents"], 1), 4),
    spill]))
PY
  tail -n 1 "$out"
  [ "${KEEP:-0}" = 1 ] || rm -f "$corpus" "$work/gen-$size.planted.jsonl" "$work/clusters-$size.jsonl"
done
python3 "$here/plot.py" "$out" "$here"
