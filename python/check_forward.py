"""Runs our forward (`c2fnas bench forward`) and the PyTorch twin (c2fnas_torch.py) on the same input and
weights; prints the max abs difference of the logits. Needs torch and safetensors (pip).

    python3 python/check_forward.py [EXPORT_DIR] [--size 64] [--binary .build/release/c2fnas]

Without EXPORT_DIR it writes a C2FNAS-Panc (width 8) export with random weights (random norm affine
parameters too, so every name is exercised) to a temporary folder first.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c2fnas_torch import C2FNASNet  # noqa: E402

PANC = {"schemaVersion": 1, "name": "c2fnas-panc", "levels": 4,
        "topology": [1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1],
        "ops": ["2D", "P3D", "3D", "3D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"],
        "baseWidth": 8, "inputChannels": 1, "classes": 3, "patch": [64, 64, 64],
        "provenance": {"source": "check_forward", "metrics": {}}}


def random_export(folder, arch):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "architecture.json"), "w") as f:
        json.dump(arch, f)
    net = C2FNASNet(arch, seed=5)
    gen = torch.Generator().manual_seed(6)
    weights = {}
    for name, p in net.named_weights():
        t = p.detach().clone()
        if p.dim() == 1:   # norm scale/shift and the classifier bias: not the trivial 1/0 init
            t = 1 + 0.3 * torch.randn(t.shape, generator=gen) if name.endswith("weight") else 0.1 * torch.randn(t.shape, generator=gen)
        weights[name] = t.contiguous()
    save_file(weights, os.path.join(folder, "weights.safetensors"), metadata={"format": "pt"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export", nargs="?")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max abs difference accepted")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "c2fnas"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="c2fnas-check-")
    export = args.export
    if export is None:
        export = os.path.join(tmp, "export")
        random_export(export, PANC)
    net = C2FNASNet.from_export(export).eval()
    c = net.arch["inputChannels"]
    x = torch.randn(1, c, args.size, args.size, args.size, generator=torch.Generator().manual_seed(1))
    inp, out = os.path.join(tmp, "in.safetensors"), os.path.join(tmp, "out.safetensors")
    save_file({"input": x.contiguous()}, inp)
    env = dict(os.environ, OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", "HASWELL"))
    subprocess.run([args.binary, "bench", "forward", export, "--input", inp, "--output", out], check=True, env=env)
    ours = load_file(out)["output"]
    with torch.no_grad():
        theirs = net(x)
        exact = net.double()(x.double())   # float64 reference: how far float32 rounding alone goes
    diff = (ours - theirs).abs().max().item()
    scale = theirs.abs().max().item()
    ours64 = (ours.double() - exact).abs().max().item()
    torch64 = (theirs.double() - exact).abs().max().item()
    tol = args.tolerance
    print(f"export {export}: logits {tuple(theirs.shape)}, max |logit| {scale:.3f}\n"
          f"  max |ours - torch fp32| = {diff:.3e}   (relative to max |logit|: {diff / scale:.1e})\n"
          f"  max |ours - torch fp64| = {ours64:.3e}, max |torch fp32 - torch fp64| = {torch64:.3e}\n"
          f"  -> {'OK' if diff <= tol else 'MISMATCH'} at tolerance {tol:g}")
    sys.exit(0 if diff <= tol else 1)


if __name__ == "__main__":
    main()
