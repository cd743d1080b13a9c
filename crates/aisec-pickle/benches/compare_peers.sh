#!/usr/bin/env bash
# Side-by-side timing of aisec's pickle engine, picklescan and modelscan.
#
#   pip install picklescan modelscan numpy   # into the python you pass below
#   crates/aisec-pickle/benches/compare_peers.sh [PYTHON]
#
# 1. `cargo bench --bench throughput` scans a generated ~1 GiB data-heavy
#    pickle (written to $BIG for the peers) and the fixture corpus in-process.
# 2. benches/peers.py runs picklescan and modelscan in-process on the same
#    corpus and file, and reports what each detects in the corpus.
# 3. Whole-process wall time of each command-line tool on the corpus.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
crate="$(dirname "$here")"
python="${1:-python3}"
big="${BIG:-/tmp/aisec-pickle-bench.pkl}"
fixtures="$crate/tests/fixtures"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-pickle}"

echo "== aisec (in-process, release)"
AISEC_BENCH_WRITE="$big" cargo bench -q -p aisec-pickle --bench throughput 2>&1 | grep -v '^wrote'

echo "== peers (in-process)"
"$python" "$here/peers.py" "$fixtures" "$big" "${ROUNDS:-5}"

echo "== command lines on the corpus (wall time, includes start-up)"
cargo build -q --release -p aisec-pickle --example pickle_scan
bin="$CARGO_TARGET_DIR/release/examples/pickle_scan"
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo "$(( (e - s) / 1000000 )) ms"; }
echo "aisec pickle_scan: $(t "$bin" "$fixtures"/*/*)"
pybin="$(dirname "$(command -v "$python")")"
[ -x "$pybin/picklescan" ] && echo "picklescan -p: $(t "$pybin/picklescan" -p "$fixtures")"
[ -x "$pybin/modelscan" ] && echo "modelscan -p: $(t "$pybin/modelscan" -p "$fixtures")"
echo "aisec on the big file: $(t "$bin" "$big")"
[ -x "$pybin/picklescan" ] && echo "picklescan on the big file: $(t "$pybin/picklescan" -p "$big")"
[ -x "$pybin/modelscan" ] && echo "modelscan on the big file: $(t "$pybin/modelscan" -p "$big")"
rm -f "$big"
