#!/usr/bin/env bash
# Compares the advisories aisec reports for each fixture with
#  - tests/peer/osv_reference.py: an independent matcher over the same OSV
#    snapshot using `packaging` (pip's PEP 440 implementation);
#  - pip-audit with its PyPI vulnerability service, when given (needs the
#    network; the service serves live data, newer than the snapshot).
# usage (from crates/aisec-deps): tests/peer/compare.sh PYTHON [PIP_AUDIT]
# PYTHON must have `packaging` installed.
set -euo pipefail
py=${1:?usage: compare.sh PYTHON_WITH_PACKAGING [PIP_AUDIT]}
pip_audit=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
zip=$(cd ../../../shared/data && pwd)/osv-PyPI-all.zip
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
cargo run -q --example db -- import "$zip" "$db" >/dev/null
for f in tests/fixtures/ml/requirements.txt tests/fixtures/poetry/poetry.lock tests/fixtures/uv/uv.lock \
         tests/fixtures/pipenv/Pipfile.lock tests/fixtures/pdm/pdm.lock tests/fixtures/pylock/pylock.toml \
         tests/fixtures/pyproject/pyproject.toml tests/fixtures/conda/conda.yaml \
         "tests/fixtures/venv/lib/python3.11/site-packages/gradio-3.13.0.dist-info/METADATA"; do
  echo "== $f"
  aisec=$(cargo run -q --example deps_scan -- "$db" "$f" 2>/dev/null | sort)
  pins=$(echo "$aisec" | awk 'NF {print $1}' | sort -u)
  echo "aisec:     $(echo "$aisec" | awk 'NF {print $2}' | sort | tr '\n' ' ')"
  [ -n "$pins" ] || continue
  ref=$("$py" "$here/osv_reference.py" "$zip" $pins | awk '{$1=""; print}' | tr ' ' '\n' | grep . | sort | tr '\n' ' ' || true)
  echo "reference: $ref"
  if [ -n "$pip_audit" ]; then
    req=$(mktemp)
    echo "$pins" > "$req"
    "$pip_audit" -r "$req" --no-deps --disable-pip -s pypi -f json -o "$req.json" >/dev/null 2>&1 || true
    "$py" - "$req.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ids = sorted(f"{v['id']}[{','.join(sorted(v.get('aliases', [])))}]"
             for dep in d["dependencies"] for v in dep.get("vulns", []))
print("pip-audit:", " ".join(ids))
PY
    rm -f "$req" "$req.json"
  fi
done
