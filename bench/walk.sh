#!/usr/bin/env bash
# Walk-and-scan benchmark: a tree of N small files (default 100,000: Python,
# JSON, text, markdown, binary), scanned by aisec with every scanner and read
# by `find | xargs cat` on the same tree, warm cache, best of 3.
# Usage: bash bench/walk.sh [N]    (builds release; the tree goes to $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
tree=${TMPDIR:-/tmp}/aisec-walk-bench-v2-$n
if [ ! -d "$tree" ]; then
  python3 - "$tree" "$n" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
for i in range(n):
    d = os.path.join(root, f"d{i // 1000:03}", f"s{(i // 100) % 10}")
    os.makedirs(d, exist_ok=True)
    ext = random.choice([".py", ".json", ".txt", ".md", ".bin"])
    n = random.randint(2, 20)
    if ext == ".py":
        body = "import os\n\n" + "".join(
            f"def f{j}(x):\n    return x * {j} + len(os.sep)\n\n" for j in range(n))
    elif ext == ".json":
        body = "{" + ", ".join(f'"k{j}": {j}' for j in range(n)) + "}\n"
    elif ext == ".bin":
        body = bytes(random.getrandbits(8) for _ in range(n * 16))
    else:
        body = f"line {i} " * (n * 3)
    with open(os.path.join(d, f"f{i}{ext}"), "wb") as f:
        f.write(body if isinstance(body, bytes) else body.encode())
PY
fi
cargo build --release --quiet
best() { # best wall time of 3 runs, in seconds
  local b=999999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    b=$(python3 -c "print(min($b, $e - $s))")
  done
  echo "$b"
}
"$(pwd)/target/release/aisec" scan "$tree" --quiet >/dev/null || true
a=$(best ./target/release/aisec scan "$tree" --quiet -f json)
f=$(best sh -c "find '$tree' -type f -print0 | xargs -0 cat")
a1=$(best ./target/release/aisec scan "$tree" --quiet -f json -j 1)
echo "files: $n  cores: $(nproc)"
echo "aisec scan (all cores): ${a}s"
echo "aisec scan (-j 1):      ${a1}s"
echo "find | xargs cat:       ${f}s"
python3 -c "print(f'ratio find|xargs cat / aisec: {$f / $a:.2f}x')"
