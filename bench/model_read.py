#!/usr/bin/env python3
"""How much of a large model does a scan read, and how long does it take?

Generates (once, under $TMPDIR) a 2 GB PyTorch-style zip checkpoint and a 2 GB
safetensors file, evicts them from the page cache (posix_fadvise DONTNEED),
runs a scanner, and counts the file's pages the kernel then holds (fincore):
that is every byte the scan made the kernel read, readahead included.

    python3 bench/model_read.py [--peers /path/to/venv/bin]

With --peers, picklescan and modelscan from that venv run on the same files
the same way. Standard library only (the checkpoint is written in torch's
zip layout without torch: archive/data.pkl references archive/data/N
storages by persistent id, as torch.save does).
"""
import argparse
import json
import os
import pickle
import struct
import subprocess
import sys
import time
import types
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(os.environ.get("TMPDIR", "/tmp"), "aisec-model-read-bench")
TENSORS = 200
TENSOR_BYTES = 10 * 1024 * 1024  # 200 x 10 MiB = 2000 MiB


def fake_torch():
    """Just enough of torch's module layout for pickle to name its globals
    (made once: pickle checks that a global is the very object it names)."""
    if "torch" in sys.modules:
        return sys.modules["torch"], sys.modules["torch._utils"]
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2

    class FloatStorage:
        pass

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class TensorLike:
    def __init__(self, ref, shape):
        self.ref, self.shape = ref, shape

    def __reduce__(self):
        _, utils = fake_torch()
        import collections
        return (utils._rebuild_tensor_v2,
                (self.ref, 0, self.shape, (1,), False, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            torch, _ = fake_torch()
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def make_checkpoint(path):
    import collections
    import io
    state = collections.OrderedDict()
    for i in range(TENSORS):
        state[f"layers.{i}.weight"] = TensorLike(StorageRef(str(i), TENSOR_BYTES // 4), (TENSOR_BYTES // 4,))
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(state)
    chunk = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for i in range(TENSORS):
            with z.open(f"archive/data/{i}", "w", force_zip64=True) as f:
                for _ in range(TENSOR_BYTES // len(chunk)):
                    f.write(chunk)
        z.writestr("archive/version", "3\n")
        z.writestr("archive/.data/serialization_id", "1234567890")


def make_safetensors(path):
    header = {}
    for i in range(TENSORS):
        header[f"layers.{i}.weight"] = {"dtype": "F32", "shape": [TENSOR_BYTES // 4],
                                        "data_offsets": [i * TENSOR_BYTES, (i + 1) * TENSOR_BYTES]}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for _ in range(TENSORS * TENSOR_BYTES // len(chunk)):
            f.write(chunk)


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def resident(path):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def measure(label, cmd, path):
    subprocess.run(["sync"])
    evict(path)
    before = resident(path)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    read = resident(path) - before
    print(f"{label:<40} {wall:8.3f} s  {read / 1024:10.0f} KiB read  (exit {proc.returncode}, "
          f"cache before {before / 1024:.0f} KiB)")
    return wall, read


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", help="bin dir of a venv with picklescan and modelscan")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    ckpt = os.path.join(WORK, "model.pt")
    st = os.path.join(WORK, "model.safetensors")
    if not os.path.exists(ckpt):
        make_checkpoint(ckpt)
    if not os.path.exists(st):
        make_safetensors(st)
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "aisec-cli"], cwd=ROOT, check=True)
    aisec = os.path.join(ROOT, "target", "release", "aisec")
    print(f"files: {ckpt} ({os.path.getsize(ckpt) >> 20} MiB), {st} ({os.path.getsize(st) >> 20} MiB)")
    results = {}
    for path in (ckpt, st):
        name = os.path.basename(path)
        results[("aisec", name)] = measure(f"aisec scan {name}", [aisec, "scan", "-q", "-f", "json", path], path)
        if args.peers:
            results[("picklescan", name)] = measure(f"picklescan {name}", [os.path.join(args.peers, "picklescan"), "--path", path], path)
            results[("modelscan", name)] = measure(f"modelscan {name}", [os.path.join(args.peers, "modelscan"), "-p", path], path)
    if args.peers:
        for name in (os.path.basename(ckpt), os.path.basename(st)):
            a = results[("aisec", name)][0]
            for peer in ("picklescan", "modelscan"):
                print(f"{name}: {peer} / aisec time ratio = {results[(peer, name)][0] / a:.1f}x")


if __name__ == "__main__":
    main()
