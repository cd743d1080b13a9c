#!/usr/bin/env bash
# Interoperability of aisec-sign with the reference tool, model_signing (PyPI).
#
#   crates/aisec-sign/interop/interop.sh            # from the repository root
#
# Needs: cargo, openssl, and model_signing 1.1.x importable by $PYTHON (default
# `python3`). To set that up in a throwaway virtual environment:
#   python3 -m venv /tmp/msvenv && /tmp/msvenv/bin/pip install model-signing==1.1.1 pyOpenSSL
#   PYTHON=/tmp/msvenv/bin/python crates/aisec-sign/interop/interop.sh
# (pyOpenSSL: model_signing 1.1.1 imports it without declaring it.)
#
# Every case prints PASS or FAIL; the script exits 1 if any case failed.
# Cases: aisec signs -> model_signing verifies (CLI, P-256 and P-384, signature
# outside and inside the model, single file); model_signing signs -> aisec
# verifies (CLI and API: files/sha256, shards, blake2b); tampered models fail in
# both tools; shards/blake2b signed by aisec verify through the Python API with
# an explicit hashing config (the 1.1.1 CLI re-hashes files/sha256 only).
set -u
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build -q --manifest-path "$ROOT/Cargo.toml" -p aisec-sign --example model_sign || exit 2
AISEC="$CARGO_TARGET_DIR/debug/examples/model_sign"
MS=("$PYTHON" -m model_signing)
"$PYTHON" -c 'import model_signing, OpenSSL' || { echo "model_signing (and pyOpenSSL) not importable by $PYTHON"; exit 2; }
"$PYTHON" -c 'import importlib.metadata as m; print("model_signing", m.version("model-signing"))'

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
pass() { echo "PASS  $1"; }
fail() { echo "FAIL  $1"; fails=$((fails + 1)); }
expect_ok() { local name=$1; shift; if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; echo "$out" | sed 's/^/      /'; fi; }
expect_err() { local name=$1 needle=$2; shift 2; if out=$("$@" 2>&1); then fail "$name (unexpectedly succeeded)"; elif [[ "$out" == *"$needle"* ]]; then pass "$name"; else fail "$name (error does not name '$needle')"; echo "$out" | sed 's/^/      /'; fi; }

make_model() {
  local m=$1
  mkdir -p "$m/tokenizer" "$m/.git" "$m/sub" "$m/日本語"
  printf '{"model_type": "bert", "hidden_size": 8}' > "$m/config.json"
  printf 'a\nb\n' > "$m/tokenizer/vocab.txt"
  printf '{}' > "$m/tokenizer.json"
  printf 'x' > "$m/a-b.txt"
  : > "$m/empty.bin"
  printf 'ref: refs/heads/main\n' > "$m/.git/HEAD"
  printf '*.tmp\n' > "$m/sub/.gitignore"
  printf 'モデル' > "$m/日本語/モデル.bin"
  head -c 300000 /dev/urandom > "$m/weights.bin"
}

openssl ecparam -name prime256v1 -genkey -noout -out "$W/p256.pem" 2>/dev/null
openssl ec -in "$W/p256.pem" -pubout -out "$W/p256.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$W/p384.pem" 2>/dev/null
openssl pkey -in "$W/p384.pem" -pubout -out "$W/p384.pub" 2>/dev/null

api_verify() { # MODEL SIG PUB METHOD HASH [SHARD]
  "$PYTHON" - "$@" <<'PY'
import sys, model_signing as ms
model, sig, pub, method, hash_, *rest = sys.argv[1:]
h = ms.hashing.Config()
if method == "shards":
    h = h.use_shard_serialization(hashing_algorithm=hash_, shard_size=int(rest[0]))
else:
    h = h.use_file_serialization(hashing_algorithm=hash_)
ms.verifying.Config().use_elliptic_key_verifier(public_key=pub).set_hashing_config(h).verify(model, sig)
print("Verification succeeded")
PY
}
api_sign() { # MODEL SIG KEY METHOD HASH [SHARD]
  "$PYTHON" - "$@" <<'PY'
import sys, model_signing as ms
model, sig, key, method, hash_, *rest = sys.argv[1:]
h = ms.hashing.Config()
if method == "shards":
    h = h.use_shard_serialization(hashing_algorithm=hash_, shard_size=int(rest[0]))
else:
    h = h.use_file_serialization(hashing_algorithm=hash_)
ms.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(h).sign(model, sig)
PY
}

for curve in p256 p384; do
  M="$W/$curve/model"; make_model "$M"
  # aisec signs, model_signing verifies (signature outside the model).
  expect_ok "$curve aisec sign" "$AISEC" sign "$M" --private-key "$W/$curve.pem" --signature "$W/$curve/a.sig"
  expect_ok "$curve aisec-signed -> model_signing verify key" "${MS[@]}" verify key "$M" --signature "$W/$curve/a.sig" --public_key "$W/$curve.pub"
  # Signature inside the model.
  expect_ok "$curve aisec sign (signature inside)" "$AISEC" sign "$M" --private-key "$W/$curve.pem" --signature "$M/model.sig"
  expect_ok "$curve aisec-signed inside -> model_signing verify key" "${MS[@]}" verify key "$M" --signature "$M/model.sig" --public_key "$W/$curve.pub"
  rm "$M/model.sig"
  # model_signing signs, aisec verifies.
  expect_ok "$curve model_signing sign key" "${MS[@]}" sign key "$M" --private_key "$W/$curve.pem" --signature "$W/$curve/p.sig"
  expect_ok "$curve model_signing-signed -> aisec verify" "$AISEC" verify "$M" --public-key "$W/$curve.pub" --signature "$W/$curve/p.sig"
  # Tamper: both tools refuse, aisec names the file.
  cp "$M/config.json" "$W/keep"; printf '{"model_type": "gpt2", "hidden_size": 8}' > "$M/config.json"
  expect_err "$curve tampered: model_signing refuses aisec's signature" "config.json" "${MS[@]}" verify key "$M" --signature "$W/$curve/a.sig" --public_key "$W/$curve.pub"
  expect_err "$curve tampered: aisec refuses model_signing's signature" "changed 'config.json'" "$AISEC" verify "$M" --public-key "$W/$curve.pub" --signature "$W/$curve/p.sig"
  cp "$W/keep" "$M/config.json"
  printf 'new' > "$M/added.py"
  expect_err "$curve added file: aisec names it" "added (not signed) 'added.py'" "$AISEC" verify "$M" --public-key "$W/$curve.pub" --signature "$W/$curve/p.sig"
  rm "$M/added.py"
done

# Single-file model, both directions.
F="$W/single/model.safetensors"; mkdir -p "$W/single"; head -c 5000 /dev/urandom > "$F"
expect_ok "single file: aisec sign" "$AISEC" sign "$F" --private-key "$W/p256.pem" --signature "$W/single/a.sig"
expect_ok "single file: aisec-signed -> model_signing verify key" "${MS[@]}" verify key "$F" --signature "$W/single/a.sig" --public_key "$W/p256.pub"
expect_ok "single file: model_signing sign key" "${MS[@]}" sign key "$F" --private_key "$W/p256.pem" --signature "$W/single/p.sig"
expect_ok "single file: model_signing-signed -> aisec verify" "$AISEC" verify "$F" --public-key "$W/p256.pub" --signature "$W/single/p.sig"

# Shards and blake2b through the API, both directions.
M="$W/p384/model"
expect_ok "shards: aisec sign (sha256, 65536)" "$AISEC" sign "$M" --private-key "$W/p384.pem" --signature "$W/sh-a.sig" --shards 65536
expect_ok "shards: aisec-signed -> model_signing API verify" api_verify "$M" "$W/sh-a.sig" "$W/p384.pub" shards sha256 65536
expect_ok "shards: model_signing API sign (sha256, 65536)" api_sign "$M" "$W/sh-p.sig" "$W/p384.pem" shards sha256 65536
expect_ok "shards: model_signing-signed -> aisec verify" "$AISEC" verify "$M" --public-key "$W/p384.pub" --signature "$W/sh-p.sig"
expect_ok "blake2b: aisec sign" "$AISEC" sign "$M" --private-key "$W/p384.pem" --signature "$W/b2-a.sig" --hash blake2b
expect_ok "blake2b: aisec-signed -> model_signing API verify" api_verify "$M" "$W/b2-a.sig" "$W/p384.pub" files blake2
expect_ok "blake2b: model_signing API sign" api_sign "$M" "$W/b2-p.sig" "$W/p384.pem" files blake2
expect_ok "blake2b: model_signing-signed -> aisec verify" "$AISEC" verify "$M" --public-key "$W/p384.pub" --signature "$W/b2-p.sig"
expect_ok "blake3: aisec sign" "$AISEC" sign "$M" --private-key "$W/p384.pem" --signature "$W/b3-a.sig" --hash blake3
expect_ok "blake3: aisec-signed -> model_signing API verify" api_verify "$M" "$W/b3-a.sig" "$W/p384.pub" files blake3
expect_ok "blake3: model_signing API sign" api_sign "$M" "$W/b3-p.sig" "$W/p384.pem" files blake3
expect_ok "blake3: model_signing-signed -> aisec verify" "$AISEC" verify "$M" --public-key "$W/p384.pub" --signature "$W/b3-p.sig"

# Same root digest as model_signing computes for the same model.
ours=$("$AISEC" sign "$M" --private-key "$W/p384.pem" --signature "$W/d.sig" | sed -n 's/.*root sha256:\([0-9a-f]*\).*/\1/p')
theirs=$("$PYTHON" - "$W/p384/p.sig" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
print(json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))["subject"][0]["digest"]["sha256"])
PY
)
if [[ -n "$ours" && "$ours" == "$theirs" ]]; then pass "same subject digest as model_signing ($ours)"; else fail "subject digest differs: aisec $ours, model_signing $theirs"; fi

echo "---"
if [[ $fails -eq 0 ]]; then echo "all interop cases passed"; else echo "$fails interop case(s) failed"; exit 1; fi
