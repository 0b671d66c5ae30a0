#!/usr/bin/env bash
# Build the neardup wheel, install it into a fresh virtualenv, and run the
# Python tests (neardup.spark's on local[2] included), the Scrapy example's tests and
# the README's Python example.
# Called by .ci/run. NEARDUP_PY_VENV picks the virtualenv (default python/.venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NEARDUP_PY_VENV:-$here/.venv}"
rm -rf "$venv" "$here/dist"
if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian splits venv (ensurepip) out of python3
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements-test.txt"
# neardup.spark's tests run Spark on local[2]: Java 17 (Debian's) if there is none
if ! command -v java >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
export SPARK_LOCAL_IP=127.0.0.1
# the Spark tests compare with the command line built by `cargo test --release`
export NEARDUP_BIN="${NEARDUP_BIN:-$here/../target/release/neardup}"
"$venv/bin/maturin" build --quiet --release --locked -m "$here/Cargo.toml" -o "$here/dist"
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$here"/dist/neardup-*.whl
# Run from outside the source tree, so that `import neardup` is the installed wheel.
cd "$(mktemp -d)"
start=$(date +%s)
"$venv/bin/pytest" -q -p no:cacheprovider -W ignore::DeprecationWarning "$here/tests" "$here/../examples/scrapy"
echo "python: tests took $(( $(date +%s) - start )) s (neardup.spark on local[2] is most of it)"
# The README's Python example, as written.
awk '/^<!-- python-example -->/{f=1; next} f && /^```python/{g=1; next} g && /^```/{exit} g' "$here/../README.md" > example.py
test -s example.py || { echo "README has no python example" >&2; exit 1; }
"$venv/bin/python" example.py
echo "python: wheel built, tests and README example passed"
