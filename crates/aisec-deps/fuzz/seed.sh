#!/usr/bin/env bash
# Builds the seed corpora from the test fixtures, then fuzz as usual:
#   ./seed.sh && RUSTC_BOOTSTRAP=1 cargo fuzz run manifests corpus/manifests -- -max_total_time=120 -max_len=8192
#   RUSTC_BOOTSTRAP=1 cargo fuzz run db_reader corpus/db_reader -- -max_total_time=120
set -euo pipefail
cd "$(dirname "$0")"
fx=../tests/fixtures
mkdir -p corpus/manifests corpus/db_reader
i=0
# The first byte selects the parser (see fuzz_targets/manifests.rs).
for pair in 0:ml/requirements.txt 0:hygiene/requirements.txt 0:loop/requirements.txt \
            1:pyproject/pyproject.toml 2:poetry/poetry.lock 3:uv/uv.lock 4:pipenv/Pipfile.lock \
            5:pdm/pdm.lock 6:pylock/pylock.toml 7:conda/conda.yaml \
            8:venv/lib/python3.11/site-packages/gradio-3.13.0.dist-info/METADATA; do
  { printf "\\x0${pair%%:*}"; cat "$fx/${pair#*:}"; } > "corpus/manifests/seed$i"
  i=$((i + 1))
done
# A small real database: the synthetic export of tests/import.rs is not a
# file, so import the PyPA snapshot and keep its first 4 KiB (magic, version,
# the start of the header) as the reader's seed.
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
cargo run -q --manifest-path ../Cargo.toml --example db -- import ../../../../shared/data/osv-PyPI-all.zip "$db" >/dev/null
head -c 4096 "$db/osv.db" > corpus/db_reader/seed-snapshot-head
