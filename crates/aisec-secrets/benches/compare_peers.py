#!/usr/bin/env python3
"""Runs detect-secrets and aisec's secrets scanner on the same tree: a copy
of a real source tree with fake secrets planted in it, and compares recall
on the planted secrets, findings elsewhere (noise) and time.

    python3 crates/aisec-secrets/benches/compare_peers.py CORPUS_DIR AISEC_SCAN_TREE [DETECT_SECRETS]

AISEC_SCAN_TREE is the release build of `examples/secrets_scan_tree.rs`
(`cargo build --release -p aisec-secrets --example secrets_scan_tree`). The planted
files come from `fixtures/gen/secrets_fixtures.py` (random fake keys, one
kind per line, each line tagged with the rule it must trigger). gitleaks and
trufflehog are not installable here (no binaries, no network to fetch them).
"""

import collections
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "..", "fixtures", "gen", "secrets_fixtures.py")
PLANTED_FILES = 40


def load_generator():
    spec = importlib.util.spec_from_file_location("gen", GEN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def plant(tree):
    gen = load_generator()
    planted = {}
    for i in range(PLANTED_FILES):
        gen.rng = random.Random(1000 + i)
        text = gen.positive()
        rel = os.path.join("planted", f"settings_{i}.py")
        os.makedirs(os.path.join(tree, "planted"), exist_ok=True)
        with open(os.path.join(tree, rel), "w") as f:
            f.write(text)
        for n, line in enumerate(text.splitlines(), 1):
            if "# expect: " in line:
                planted[(rel, n)] = line.split("# expect: ")[1].strip()
    return planted


def run_aisec(binary, tree):
    t = time.perf_counter()
    p = subprocess.run([binary, tree], capture_output=True, text=True)
    secs = time.perf_counter() - t
    found = set()
    for line in p.stdout.splitlines():
        loc = line.split("\t")[0]
        path, _, ln = loc.rpartition(":")
        found.add((path, int(ln)))
    return found, secs, p.stderr.strip()


def run_detect_secrets(ds, tree):
    t = time.perf_counter()
    p = subprocess.run([ds, "scan", "--all-files", "."], capture_output=True, text=True, cwd=tree)
    secs = time.perf_counter() - t
    data = json.loads(p.stdout)
    found = set()
    types = collections.Counter()
    for path, items in data.get("results", {}).items():
        for it in items:
            found.add((os.path.normpath(path), it["line_number"]))
            if not path.startswith("planted"):
                types[it["type"]] += 1
    return found, secs, types


def main():
    corpus, aisec = sys.argv[1], sys.argv[2]
    ds = sys.argv[3] if len(sys.argv) > 3 else "detect-secrets"
    work = tempfile.mkdtemp(prefix="aisec-secrets-cmp-")
    tree = os.path.join(work, "tree")
    shutil.copytree(corpus, tree, symlinks=True)
    planted = plant(tree)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)
    a, a_secs, a_note = run_aisec(aisec, tree)
    d, d_secs, d_types = run_detect_secrets(ds, tree)
    print(f"tree: {corpus} + {PLANTED_FILES} planted files, {size / 1e6:.1f} MB, {len(planted)} planted secrets")
    print(f"aisec:          {a_secs:.2f} s ({a_note})")
    print(f"detect-secrets: {d_secs:.2f} s")
    print(f"time ratio detect-secrets/aisec: {d_secs / a_secs:.0f}x")
    by_rule = collections.defaultdict(lambda: [0, 0, 0])
    for loc, rule in planted.items():
        by_rule[rule][0] += 1
        by_rule[rule][1] += loc in a
        by_rule[rule][2] += loc in d
    ra = sum(v[1] for v in by_rule.values()) / len(planted)
    rd = sum(v[2] for v in by_rule.values()) / len(planted)
    print(f"recall on planted: aisec {ra:.0%}, detect-secrets {rd:.0%}")
    print(f"{'rule':<15} {'planted':>7} {'aisec':>6} {'d-s':>6}")
    for rule in sorted(by_rule):
        n, x, y = by_rule[rule]
        print(f"{rule:<15} {n:>7} {x:>6} {y:>6}")
    noise_a = {l for l in a if not l[0].startswith("planted/")}
    noise_d = {l for l in d if not l[0].startswith("planted/")}
    print(f"findings outside planted files: aisec {len(noise_a)}, detect-secrets {len(noise_d)}, both {len(noise_a & noise_d)}")
    print("detect-secrets findings outside planted files, by plugin:", dict(d_types.most_common()))
    for tag, s in (("aisec only", noise_a - noise_d), ("detect-secrets only", noise_d - noise_a)):
        for loc in sorted(s)[:8]:
            print(f"  {tag}: {loc[0]}:{loc[1]}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
