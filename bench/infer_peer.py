"""MONAI peer of `c2fnas bench infer`: the same network (python/c2fnas_torch.py) in eval mode under no_grad,
MONAI's sliding_window_inference (sw_batch_size 1, Gaussian mode, sigma_scale 0.125, the given overlap) over a
1 x 1 x S^3 normal-noise volume, then a softmax over classes; prints one JSON line like the Swift side.
Run by bench/infer.py.

    python3 bench/infer_peer.py --arch c2fnas-panc --width 16 --size 128 --roi 64 --overlap 0.25 --threads 1
"""

import argparse
import json
import os
import sys
import time

import torch
from monai.inferers import sliding_window_inference

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, HERE)
from c2fnas_torch import C2FNASNet  # noqa: E402
from peer import architecture, peak_rss_mib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="c2fnas-panc")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--roi", type=int, default=64)
    ap.add_argument("--overlap", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    arch = architecture(args.arch, args.width, args.roi)
    net = C2FNASNet(arch, seed=1).eval()
    x = torch.randn(1, arch["inputChannels"], args.size, args.size, args.size, generator=torch.Generator().manual_seed(3))
    times, checksum = [], 0.0
    with torch.no_grad():
        for i in range(args.warmup + args.runs):
            t0 = time.perf_counter()
            out = sliding_window_inference(x, [args.roi] * 3, 1, net, overlap=args.overlap, mode="gaussian",
                                           sigma_scale=0.125)
            probs = torch.softmax(out, dim=1)
            s = time.perf_counter() - t0
            if i >= args.warmup:
                times.append(s)
            checksum = probs.mean().item()
    rss = peak_rss_mib()
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"side": "torch", "arch": arch["name"], "threads": torch.get_num_threads(), "size": args.size,
                      "roi": args.roi, "overlap": args.overlap, "params": params, "runsS": times,
                      "peakRSSMiB": rss, "checksum": checksum, "torch": torch.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
