#!/usr/bin/env python3
"""Precision and recall of aisec-data's detectors on a generated, labelled
corpus, compared with Microsoft Presidio's recognizers on the same lines.

    cargo build --release -p aisec-cli
    python3 -m venv /tmp/pii-venv && /tmp/pii-venv/bin/pip install presidio-analyzer
    /tmp/pii-venv/bin/python bench/pii_eval.py [--aisec target/release/aisec] [--lines 2000]

Run by hand, never in CI (Presidio is not a dependency of the project).

Method: one file per class, each line a sentence holding exactly one value
of that class, plus one file of hard negatives (timestamps, versions, ids,
SKUs, floats, Luhn-failing numbers, invalid SSNs/IBANs). A line counts once
per class (aisec reports values with a hit per column; the plain-text
reader makes each line a value), so for class C:
    TP = lines of pos_C with a C hit
    FP = lines of any other file with a C hit
    recall = TP / lines, precision = TP / (TP + FP).
Presidio is scored the same way, line by line, over its pattern-based
recognizers only: the spaCy models it wants for names and context are not
taken from the package registry (only third-party re-uploads are there), so
no NLP engine is loaded and context words do not boost scores. Its
DATE_TIME recognizer finds dates of any kind; it is scored against dates of
birth, like aisec's detector, which only reports dates after a birth marker.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures", "gen"))
import data_fixtures as gen  # noqa: E402

CLASSES = ["email", "phone", "payment_card", "iban", "us_ssn", "uk_nino", "ip_address", "date_of_birth"]
PRESIDIO = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "UK_NINO": "uk_nino",
    "IP_ADDRESS": "ip_address",
    "DATE_TIME": "date_of_birth",
}
TEMPLATES = [
    "Please contact {v} about the order.",
    "Customer record updated: {v}",
    "{v} was provided during sign-up.",
    "note to self - {v} - follow up next week",
]


def value(cls, rng):
    if cls == "email":
        return gen.email(rng, rng.choice(gen.FIRST), rng.choice(gen.LAST))
    if cls == "phone":
        return gen.phone(rng)
    if cls == "payment_card":
        return gen.card(rng)
    if cls == "iban":
        return gen.iban(rng)
    if cls == "us_ssn":
        return gen.ssn(rng)
    if cls == "uk_nino":
        return gen.nino(rng)
    if cls == "ip_address":
        return gen.ipv4(rng) if rng.random() < 0.7 else gen.ipv6(rng)
    if cls == "date_of_birth":
        d = gen.dob(rng)
        return rng.choice(["born {}", "DOB: {}", "date of birth {}"]).format(
            rng.choice([d.isoformat(), d.strftime("%d/%m/%Y"), d.strftime("%B %d, %Y"), d.strftime("%d %b %Y")]))
    raise ValueError(cls)


def negative(rng):
    kind = rng.randrange(12)
    if kind == 0:
        return f"job finished at 2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
    if kind == 1:
        return f"upgraded torch=={rng.randint(1, 2)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)} and cuda {rng.randint(10, 12)}.{rng.randint(0, 9)}"
    if kind == 2:
        return f"order id {rng.randint(10**9, 10**10 - 1)} shipped"
    if kind == 3:
        return f"sku SKU-{rng.randint(0, 999999):06d} restocked, qty {rng.randint(1, 500)}"
    if kind == 4:
        return f"loss={rng.random():.6f} lr={rng.random() / 100:.5f} step={rng.randint(0, 10**6)}"
    if kind == 5:
        digits = "4" + "".join(rng.choice("0123456789") for _ in range(15))
        # Make the Luhn check fail.
        good = gen.luhn_complete(digits[:15], 16, random.Random(0))
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        return f"reference number {bad}"
    if kind == 6:
        return f"case {rng.choice(['000', '666', '900'])}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} closed"
    if kind == 7:
        iban = gen.iban(rng, grouped=False)
        return f"account {iban[:2]}{(int(iban[2:4]) + 1) % 100:02d}{iban[4:]} rejected"
    if kind == 8:
        return f"epoch_ms {1_700_000_000_000 + rng.randint(0, 10**10)}"
    if kind == 9:
        return f"firmware version {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}"
    if kind == 10:
        return f"image size {rng.choice([224, 256, 512])}x{rng.choice([224, 256, 512])}, batch {rng.choice([16, 32, 64])}"
    return f"meeting moved to {rng.randint(1, 28)}/{rng.randint(1, 12)}/2024 at {rng.randint(1, 12)}pm"


def build(lines, out_dir, seed=7):
    rng = random.Random(seed)
    files = {}
    for cls in CLASSES:
        rows = [rng.choice(TEMPLATES).format(v=value(cls, rng)) for _ in range(lines)]
        files[f"pos_{cls}"] = rows
    files["negatives"] = [negative(rng) for _ in range(lines)]
    for name, rows in files.items():
        with open(os.path.join(out_dir, f"{name}.txt"), "w") as f:
            f.write("\n".join(rows) + "\n")
    return files


def score(hits, lines):
    """hits[file][cls] = lines of `file` with a `cls` hit."""
    table = {}
    for cls in CLASSES:
        tp = hits.get(f"pos_{cls}", {}).get(cls, 0)
        fp = sum(h.get(cls, 0) for f, h in hits.items() if f != f"pos_{cls}")
        table[cls] = {
            "recall": tp / lines,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "tp": tp,
            "fp": fp,
        }
    return table


def run_aisec(binary, out_dir, files):
    paths = [os.path.join(out_dir, f"{n}.txt") for n in files]
    t = time.perf_counter()
    p = subprocess.run([binary, "data", "scan", "--format", "json", "--sample-rows", "1000000", *paths],
                       capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    doc = json.loads(p.stdout)
    hits = {}
    for f in doc["files"]:
        name = os.path.basename(f["path"])[:-4]
        hits[name] = {}
        for c in f["columns"]:
            for d in c["detections"]:
                hits[name][d["detector"]] = d["hits"]
    return hits, elapsed


def run_presidio(files):
    import tldextract
    from presidio_analyzer import EntityRecognizer, RecognizerRegistry

    # Presidio's e-mail recognizer validates domains with tldextract, which
    # would fetch the public suffix list; its bundled snapshot is enough.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    recognizers = [r for r in registry.recognizers
                   if type(r).__name__ not in {"SpacyRecognizer", "StanzaRecognizer", "TransformersRecognizer"}
                   and isinstance(r, EntityRecognizer)
                   and any(e in PRESIDIO for e in r.supported_entities)]
    used = sorted({e for r in recognizers for e in r.supported_entities if e in PRESIDIO})
    hits = {}
    t = time.perf_counter()
    for name, rows in files.items():
        counts = {}
        for row in rows:
            seen = set()
            for r in recognizers:
                try:
                    results = r.analyze(row, r.supported_entities, None)
                except Exception:  # noqa: BLE001 - a recognizer that needs NLP artifacts
                    continue
                for res in results or []:
                    cls = PRESIDIO.get(res.entity_type)
                    # Presidio's AnalyzerEngine drops results scored 0; do the same.
                    if cls and res.score > 0:
                        seen.add(cls)
            for cls in seen:
                counts[cls] = counts.get(cls, 0) + 1
        hits[name] = counts
    return hits, time.perf_counter() - t, used


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aisec", default="target/release/aisec")
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--no-presidio", action="store_true")
    args = ap.parse_args()
    out_dir = tempfile.mkdtemp(prefix="pii_eval_")
    files = build(args.lines, out_dir)
    a_hits, a_time = run_aisec(args.aisec, out_dir, files)
    a = score(a_hits, args.lines)
    result = {"lines_per_file": args.lines, "aisec": {"seconds": a_time, "scores": a}}
    if not args.no_presidio:
        p_hits, p_time, used = run_presidio(files)
        result["presidio"] = {"seconds": p_time, "entities": used, "scores": score(p_hits, args.lines)}
    print(f"{'class':<15} {'aisec P':>8} {'aisec R':>8} {'presidio P':>11} {'presidio R':>11}")
    for cls in CLASSES:
        pr = result.get("presidio", {}).get("scores", {}).get(cls, {"precision": float("nan"), "recall": float("nan")})
        print(f"{cls:<15} {a[cls]['precision']:>8.3f} {a[cls]['recall']:>8.3f} {pr['precision']:>11.3f} {pr['recall']:>11.3f}")
    total = args.lines * (len(CLASSES) + 1)
    print(f"aisec: {a_time:.3f} s for {total} lines (process start included)")
    if "presidio" in result:
        print(f"presidio (pattern recognizers, no NLP engine): {result['presidio']['seconds']:.3f} s; "
              f"ratio presidio/aisec = {result['presidio']['seconds'] / a_time:.1f}x")
    with open(os.path.join(out_dir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("details:", os.path.join(out_dir, "result.json"))


if __name__ == "__main__":
    main()
