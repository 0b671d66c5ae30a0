#!/usr/bin/env bash
# Peer comparison: build neardup, create a virtualenv with the pinned peers, run compare.py.
# Usage: bash benches/compare/run.sh CORPUS.jsonl [compare.py options]
# A peer that fails to install is reported and left out; compare.py reports peers that fail to run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:?usage: run.sh CORPUS.jsonl [options]}
shift
venv=${NEARDUP_PEERS_VENV:-$here/.venv}
cargo build --release --quiet --manifest-path "$here/../../Cargo.toml" || exit 1
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" || exit 1
peers=()
while read -r req; do
  case "$req" in ""|\#*) continue ;; esac
  if "$venv/bin/pip" install -q "$req" >/dev/null 2>&1; then
    name=${req%%==*}
    case "$name" in datasketch|rensa|gaoya|datatrove) peers+=("$name") ;; esac
  else
    echo "peer requirement failed to install, left out: $req" >&2
  fi
done < "$here/requirements.txt"
list=$(IFS=,; echo "${peers[*]}")
exec "$venv/bin/python" "$here/compare.py" "$corpus" --neardup "$here/../../target/release/neardup" --peers "$list" "$@"
