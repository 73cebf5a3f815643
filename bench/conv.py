"""conv3d fwd+bwd, ours (`c2fnas bench conv --json`) vs PyTorch (F.conv3d + backward for dX and dW), alternating
per shape and round in one invocation; prints median (ours: of the per-round medians) and best ms, and the ratio.

    OPENBLAS_CORETYPE=HASWELL python3 bench/conv.py --threads 1 --rounds 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHAPES = [(16, 16, 32), (32, 32, 32), (64, 64, 32), (16, 16, 64), (32, 32, 64)]


def torch_times(cin, cout, size, repeats):
    x = torch.randn(1, cin, size, size, size, requires_grad=True)
    w = torch.randn(cout, cin, 3, 3, 3, requires_grad=True)
    seed = torch.randn(1, cout, size, size, size)

    def once():
        y = F.conv3d(x, w, padding=1)
        y.backward(seed)
        x.grad = None
        w.grad = None

    once()
    ms = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        once()
        ms.append((time.perf_counter() - t0) * 1e3)
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "c2fnas"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", "HASWELL"))
    print(f"| shape ({args.threads}T, 3x3x3) | GFLOP f+b | ours ms med / best | torch ms med / best "
          "| ours GF/s (best) | % of 117.4·T | ours/torch (best) |")
    print("|---|---|---|---|---|---|---|")
    for cin, cout, size in SHAPES:
        label = f"{cin}->{cout} k3x3x3 {size}^3"
        ours_best, ours_med, theirs = [], [], []
        for _ in range(args.rounds):
            out = subprocess.run([args.binary, "bench", "conv", "--threads", str(args.threads), "--sizes", str(size),
                                  "--filter", label, "--json", "--repeats", str(args.repeats)],
                                 check=True, env=env, capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            ours_best.append(row["trainBestMs"])
            ours_med.append(row["trainMedianMs"])
            theirs += torch_times(cin, cout, size, args.repeats)
        gflop = 3 * 2 * cin * cout * 27 * size ** 3 / 1e9
        ob, tb = min(ours_best), min(theirs)
        print(f"| {label} | {gflop:.2f} | {statistics.median(ours_med):.1f} / {ob:.1f} | "
              f"{statistics.median(theirs):.1f} / {tb:.1f} | {gflop / ob * 1e3:.0f} | "
              f"{100 * gflop / ob * 1e3 / (117.4 * args.threads):.0f} % | {ob / tb:.2f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
