#!/usr/bin/env python3
"""Runs bandit and aisec's code scanner on the same Python tree and compares.

    python3 crates/aisec-code/benches/compare_bandit.py CORPUS_DIR AISEC_SCAN_CODE [BANDIT]

AISEC_SCAN_CODE is the release build of `examples/scan_code.rs`
(`cargo build --release -p aisec-code --example scan_code`). bandit runs with
only the tests that overlap aisec's rules, one process. Findings are compared
per category at (file, line) granularity; the report lists the overlap and
what each tool found that the other did not, with examples.
"""

import collections
import json
import os
import subprocess
import sys
import time

# bandit test id -> category shared with aisec
BANDIT = {
    "B614": "torch.load",
    "B301": "pickle-family",
    "B302": "pickle-family",
    "B506": "yaml",
    "B615": "hub-revision",
    "B501": "tls",
    "B323": "tls",
    "B202": "tar",
    "B201": "exposed-app",
    "B104": "exposed-app",
    "B307": "exec-sink",
    "B102": "exec-sink",
}
AISEC = {
    "AISEC-CODE-001": "torch.load",
    "AISEC-CODE-002": "pickle-family",
    "AISEC-CODE-003": "pickle-family",
    "AISEC-CODE-004": "yaml",
    "AISEC-CODE-005": "keras",
    "AISEC-CODE-006": "remote-code",
    "AISEC-CODE-007": "hub-revision",
    "AISEC-CODE-008": "llm-options",
    "AISEC-CODE-009": "exec-sink",
    "AISEC-CODE-010": "prompt",
    "AISEC-CODE-011": "tls",
    "AISEC-CODE-012": "http-download",
    "AISEC-CODE-013": "tar",
    "AISEC-CODE-014": "exposed-app",
}


def run_bandit(bandit, corpus):
    t = time.perf_counter()
    p = subprocess.run(
        [bandit, "-r", corpus, "-f", "json", "-q", "-t", ",".join(BANDIT)],
        capture_output=True, text=True,
    )
    secs = time.perf_counter() - t
    data = json.loads(p.stdout or "{}")
    found = collections.defaultdict(set)
    for r in data.get("results", []):
        rel = os.path.relpath(r["filename"], corpus)
        found[BANDIT[r["test_id"]]].add((rel, r["line_number"]))
    return found, secs, len(data.get("results", []))


def run_aisec(binary, corpus):
    t = time.perf_counter()
    p = subprocess.run([binary, corpus], capture_output=True, text=True)
    secs = time.perf_counter() - t
    found = collections.defaultdict(set)
    n = 0
    for line in p.stdout.splitlines():
        loc, rule, _sev, _msg = line.split("\t", 3)
        path, _, ln = loc.rpartition(":")
        found[AISEC.get(rule, rule)].add((path, int(ln)))
        n += 1
    return found, secs, n, p.stderr.strip()


def main():
    corpus, aisec = sys.argv[1], sys.argv[2]
    bandit = sys.argv[3] if len(sys.argv) > 3 else "bandit"
    b, b_secs, b_n = run_bandit(bandit, corpus)
    a, a_secs, a_n, a_note = run_aisec(aisec, corpus)
    print(f"corpus: {corpus}")
    print(f"bandit: {b_n} findings in {b_secs:.2f} s; aisec: {a_n} findings in {a_secs:.2f} s ({a_note})")
    print(f"time ratio bandit/aisec: {b_secs / a_secs:.1f}x")
    print()
    print(f"{'category':<15} {'both':>5} {'aisec only':>11} {'bandit only':>12}")
    examples = []
    for cat in sorted(set(a) | set(b)):
        both = a[cat] & b[cat]
        only_a = a[cat] - b[cat]
        only_b = b[cat] - a[cat]
        print(f"{cat:<15} {len(both):>5} {len(only_a):>11} {len(only_b):>12}")
        for tag, s in (("aisec only", only_a), ("bandit only", only_b)):
            for loc in sorted(s)[:3]:
                examples.append(f"  {cat} / {tag}: {loc[0]}:{loc[1]}")
    print()
    print("examples:")
    print("\n".join(examples))


if __name__ == "__main__":
    main()
