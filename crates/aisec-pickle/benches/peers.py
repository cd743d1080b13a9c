#!/usr/bin/env python3
"""Times picklescan and modelscan (installed from PyPI) on the same files as
aisec's throughput bench, and counts what each flags in the fixture corpus.

Usage: peers.py FIXTURES_DIR BIG_PICKLE [ROUNDS]
Prints one line per measurement; compare_peers.sh puts aisec's beside them.
"""

import logging
import os
import sys
import time

logging.disable(logging.CRITICAL)


def files_under(root):
    out = []
    for kind in ("benign", "malicious"):
        d = os.path.join(root, kind)
        for name in sorted(os.listdir(d)):
            out.append((kind, os.path.join(d, name)))
    return out


def picklescan_scan(path):
    from picklescan.scanner import scan_file_path

    r = scan_file_path(path)
    return r.infected_files > 0 or r.scan_err


def picklescan_flags(path):
    from picklescan.scanner import scan_file_path

    r = scan_file_path(path)
    return r.infected_files > 0


_modelscan = None


def modelscan_scan(path):
    global _modelscan
    from modelscan.modelscan import ModelScan

    if _modelscan is None:
        _modelscan = ModelScan()
    ms = ModelScan()
    return ms.scan(path)


def modelscan_flags(path):
    from modelscan.modelscan import ModelScan

    res = ModelScan().scan(path)
    issues = res.get("issues", []) if isinstance(res, dict) else []
    return any(str(i.get("severity", "")).upper() in ("CRITICAL", "HIGH") for i in issues)


def time_corpus(label, fn, files, rounds):
    t = time.perf_counter()
    for _ in range(rounds):
        for _, path in files:
            try:
                fn(path)
            except Exception:
                pass
    per_pass = (time.perf_counter() - t) / rounds
    print(f"{label} corpus: {per_pass * 1e6:.1f} us per pass ({per_pass * 1e6 / len(files):.1f} us per file)")


def time_big(label, fn, path):
    size = os.path.getsize(path)
    t = time.perf_counter()
    try:
        fn(path)
    except Exception as e:  # a peer failing on the file is a result too
        print(f"{label} big: error {type(e).__name__}: {e}")
    dt = time.perf_counter() - t
    print(f"{label} big: {size / 2**30:.3f} GiB in {dt * 1e3:.1f} ms = {size / 2**30 / dt:.3f} GiB/s")


def detection(label, fn, files):
    mal = [p for k, p in files if k == "malicious"]
    ben = [p for k, p in files if k == "benign"]

    def flagged(p):
        try:
            return bool(fn(p))
        except Exception:
            return False

    hit = [os.path.basename(p) for p in mal if flagged(p)]
    fp = [os.path.basename(p) for p in ben if flagged(p)]
    missed = sorted(set(os.path.basename(p) for p in mal) - set(hit))
    print(f"{label} detection: {len(hit)}/{len(mal)} malicious flagged, {len(fp)}/{len(ben)} benign flagged")
    print(f"{label} missed: {' '.join(missed)}")


def main():
    root, big = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    files = files_under(root)
    detection("picklescan", picklescan_flags, files)
    detection("modelscan", modelscan_flags, files)
    time_corpus("picklescan", picklescan_scan, files, rounds)
    time_corpus("modelscan", modelscan_scan, files, rounds)
    time_big("picklescan", picklescan_scan, big)
    time_big("modelscan", modelscan_scan, big)


if __name__ == "__main__":
    main()
