#!/usr/bin/env bash
# Hashing throughput of aisec-sign against model_signing and the single-file
# limits of sha256sum and b3sum, on one generated model directory.
#
#   crates/aisec-sign/benches/hash_bench.sh [SIZE_GIB]      # default 3
#
# Env: BENCH_DIR (default /tmp/aisec-sign-bench; never inside the repo),
# PYTHON (an interpreter with model_signing 1.1.x, see ../interop/README.md;
# the model_signing rows are skipped without it), RUNS (default 3, best of).
# The model is SIZE_GIB files of 1 GiB random bytes plus two small files; the
# page cache is warmed first, so this measures hashing, not the disk.
# Not a cargo bench: it needs a release build, external tools and gigabytes.
set -u
SIZE=${1:-3}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/aisec-sign-bench}
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Thin LTO buys nothing measurable here and doubles the build on small machines.
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_DEBUG=false cargo build -q --release --manifest-path "$ROOT/Cargo.toml" -p aisec-sign --example model_sign || exit 2
AISEC="$CARGO_TARGET_DIR/release/examples/model_sign"

M="$BENCH_DIR/model"
mkdir -p "$M"
for i in $(seq 1 "$SIZE"); do
  f="$M/model-$(printf %05d "$i")-of-$(printf %05d "$SIZE").safetensors"
  [[ -f "$f" && $(stat -c %s "$f") -eq 1073741824 ]] || head -c 1073741824 /dev/urandom > "$f"
done
echo '{"model_type":"llama"}' > "$M/config.json"
[[ -f "$M/tokenizer.json" ]] || head -c 2000000 /dev/urandom | base64 > "$M/tokenizer.json"
BYTES=$(du -sb "$M" | cut -f1)
ONE="$M/model-00001-of-$(printf %05d "$SIZE").safetensors"
cat "$M"/* > /dev/null   # warm the page cache

# best-of-RUNS: "wall cpu" seconds (cpu = user + sys) of the fastest run.
# Wall time is what a user waits; CPU time per byte is the efficiency, and it
# is far less disturbed by other load on a shared machine.
TIMES=$(mktemp)
best() {
  local b="" bc=""
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f "%e %U %S" -o "$TIMES" "$@" > /dev/null 2>&1 || { echo "FAILED"; return; }
    read -r w u s < "$TIMES"
    if [[ -z "$b" ]] || (( $(echo "$w < $b" | bc -l) )); then b=$w; bc=$(echo "$u + $s" | bc -l); fi
  done
  echo "$b $bc"
}
row() { # label bytes "wall cpu"
  if [[ "$3" == FAILED ]]; then printf '%-50s %s\n' "$1" "failed"; return; fi
  local w c; read -r w c <<< "$3"
  printf '%-50s %7.2f s wall %6.2f GB/s   %7.2f s cpu %6.2f GB/cpu-s\n' "$1" "$w" \
    "$(echo "$2 / $w / 1000000000" | bc -l)" "$c" "$(echo "$2 / ($c + 0.001) / 1000000000" | bc -l)"
}

echo "machine: $(nproc) cores, $(uname -m), load $(cut -d" " -f1-3 /proc/loadavg); model: $BYTES bytes in $(ls "$M" | wc -l) files; best of $RUNS"
ONEB=$(stat -c %s "$ONE")
row "sha256sum, one 1 GiB file" "$ONEB" "$(best sha256sum "$ONE")"
row "openssl dgst -sha256, one 1 GiB file" "$ONEB" "$(best openssl dgst -sha256 "$ONE")"
if command -v b3sum > /dev/null; then
  row "b3sum --num-threads 1, one 1 GiB file" "$ONEB" "$(best b3sum --num-threads 1 "$ONE")"
  row "b3sum (all threads), one 1 GiB file" "$ONEB" "$(best b3sum "$ONE")"
fi
row "aisec files/sha256, one 1 GiB file" "$ONEB" "$(best "$AISEC" hash "$ONE")"
row "aisec files/sha256" "$BYTES" "$(best "$AISEC" hash "$M")"
row "aisec shards/sha256 (1 GB shards, the default)" "$BYTES" "$(best "$AISEC" hash "$M" --shards 1000000000)"
row "aisec shards/sha256 (64 MiB shards)" "$BYTES" "$(best "$AISEC" hash "$M" --shards 67108864)"
row "aisec files/blake2b" "$BYTES" "$(best "$AISEC" hash "$M" --hash blake2b)"
row "aisec files/blake3" "$BYTES" "$(best "$AISEC" hash "$M" --hash blake3)"

if "$PYTHON" -c 'import model_signing' 2> /dev/null; then
  PYH=$(mktemp)
  cat > "$PYH" <<'PY'
import sys, model_signing as ms
model, method, alg = sys.argv[1:4]
h = ms.hashing.Config()
h = h.use_shard_serialization(hashing_algorithm=alg) if method == "shards" else h.use_file_serialization(hashing_algorithm=alg)
h.hash(model)
PY
  row "model_signing files/sha256 (API hash)" "$BYTES" "$(best "$PYTHON" "$PYH" "$M" files sha256)"
  row "model_signing shards/sha256 (API hash, 1 GB)" "$BYTES" "$(best "$PYTHON" "$PYH" "$M" shards sha256)"
  row "model_signing files/blake2b (API hash)" "$BYTES" "$(best "$PYTHON" "$PYH" "$M" files blake2)"
  row "model_signing files/blake3 (API hash)" "$BYTES" "$(best "$PYTHON" "$PYH" "$M" files blake3)"
  rm -f "$PYH"
else
  echo "(model_signing not importable by $PYTHON: its rows skipped)"
fi
