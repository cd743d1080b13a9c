#!/usr/bin/env python3
"""Where would osv-scanner's local matcher and OSV-spec matching (aisec,
osv_reference.py) disagree on this snapshot? For every package, every release
listed in any of its records (the `versions` lists enumerate real PyPI
releases) is checked against every record, both ways. Prints counts and a few
examples.

usage: matcher_diff.py ZIP
"""
import sys

import osv_reference as ref

db = ref.load(sys.argv[1])
only_spec, only_scanner, pairs = [], [], 0
for pkg, entries in db.items():
    universe = set()
    for rec, aff in entries:
        universe.update(aff.get("versions", []))
    for version in universe:
        for rec, aff in entries:
            pairs += 1
            ref.OSV_SCANNER = False
            a = ref.affected(aff, version)
            ref.OSV_SCANNER = True
            b = ref.affected(aff, version)
            if a and not b:
                only_spec.append((pkg, version, rec["id"]))
            elif b and not a:
                only_scanner.append((pkg, version, rec["id"]))
print(f"{pairs} (package version, record) pairs checked")
print(f"affected per OSV spec only: {len(only_spec)}; e.g. {sorted(only_spec)[:5]}")
print(f"affected per osv-scanner only: {len(only_scanner)}; e.g. {sorted(only_scanner)[:5]}")
