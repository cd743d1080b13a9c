#!/usr/bin/env python3
"""Independent reference matcher for cross-checking aisec-deps.

Reads an OSV all.zip and prints, for each `name==version` given (or read from
a requirements-style file), the advisory ids affecting it, evaluated with the
`packaging` library (pip's own PEP 440 implementation) and the OSV algorithm:
withdrawn records skipped, ECOSYSTEM ranges replayed over sorted events, the
explicit `versions` list. Aliases are printed but not merged, so the output
can be compared with peers that report one id per record.

With --osv-scanner, emulates the local matcher of osv-scanner v2
(osv-scalibr enricher/vulnmatch/osvlocal/internal/vulns/vulnerability.go):
`versions` compared as exact strings, the ranges of an `affected` entry
abandoned at the first range that is neither ECOSYSTEM nor SEMVER, `limit`
events ignored.

usage: osv_reference.py [--osv-scanner] ZIP FILE_OR_PIN...
"""
import json
import re
import sys
import zipfile

from packaging.version import InvalidVersion, Version


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def load(zip_path):
    by_pkg = {}
    with zipfile.ZipFile(zip_path) as z:
        for n in z.namelist():
            if not n.endswith(".json"):
                continue
            rec = json.loads(z.read(n))
            if rec.get("withdrawn"):
                continue
            for aff in rec.get("affected", []):
                pkg = aff.get("package", {})
                if pkg.get("ecosystem") != "PyPI":
                    continue
                by_pkg.setdefault(norm(pkg["name"]), []).append((rec, aff))
    return by_pkg


def v(s):
    try:
        return Version(s)
    except InvalidVersion:
        return None


OSV_SCANNER = False


def affected(aff, version):
    ver = v(version)
    if ver is None:
        return False
    if OSV_SCANNER:
        if version in aff.get("versions", []):
            return True
    elif any(v(x) == ver for x in aff.get("versions", [])):
        return True
    for r in aff.get("ranges", []):
        if r["type"] not in ("ECOSYSTEM", "SEMVER"):
            if OSV_SCANNER:
                return False
            continue
        evs = []
        for e in r["events"]:
            (k, val), = e.items()
            if k == "introduced" and val == "0":
                evs.append((Version("0.dev0"), -1, k))
                continue
            pv = v(val)
            if pv is not None:
                evs.append((pv, 0, k))
        evs.sort(key=lambda t: (t[0], t[1]))
        hit = False
        for pv, _, k in evs:
            if k == "introduced" and (pv <= ver or _ == -1):
                hit = True
            elif k == "fixed" and ver >= pv:
                hit = False
            elif k == "last_affected" and ver > pv:
                hit = False
            elif k == "limit" and ver >= pv and not OSV_SCANNER:
                hit = False
        if hit:
            return True
    return False


def pins(arg):
    if "==" in arg and not arg.endswith(".txt"):
        yield arg
        return
    for line in open(arg):
        line = line.split("#")[0].strip()
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*===?\s*([^\s;]+)", line)
        if m:
            yield f"{m.group(1)}=={m.group(3)}"


def main():
    global OSV_SCANNER
    args = sys.argv[1:]
    if args and args[0] == "--osv-scanner":
        OSV_SCANNER = True
        args = args[1:]
    db = load(args[0])
    for arg in args[1:]:
        for pin in pins(arg):
            name, version = pin.split("==")
            ids = sorted(
                {rec["id"] for rec, aff in db.get(norm(name), []) if affected(aff, version)}
            )
            print(f"{norm(name)}=={version}: {' '.join(ids)}")


if __name__ == "__main__":
    main()
