"""PyTorch peer of `c2fnas bench step`: the same network (python/c2fnas_torch.py), input, labels, loss (Dice+CE)
and SGD settings; prints one JSON line like the Swift side. Run by bench/step.py.

    python3 bench/peer.py --arch c2fnas-panc --width 8 --size 64 --threads 1 --steps 3 --warmup 1
"""

import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from c2fnas_torch import C2FNASNet, dice_ce_loss  # noqa: E402

BUILTIN = {
    "c2fnas-panc": ([1, 1, 2, 2, 3, 4, 3, 3, 2, 1, 1, 1],
                    ["2D", "P3D", "3D", "3D", "3D", "3D", "2D", "3D", "P3D", "3D", "2D", "3D"]),
    "unet": ([1, 2, 2, 3, 3, 4, 4, 3, 3, 2, 2, 1], ["3D"] * 12),
}


def peak_rss_mib():
    """VmHWM of this process. Not ru_maxrss: a child started with vfork inherits its parent's peak there."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def architecture(name, width, size):
    if name in BUILTIN:
        topo, ops = BUILTIN[name]
        return {"name": name, "levels": 4, "topology": topo, "ops": ops, "baseWidth": width,
                "inputChannels": 1, "classes": 3, "patch": [size] * 3}
    with open(name) as f:
        return json.load(f)


def sphere_labels(s, classes):
    c = (s - 1) / 2
    r = torch.arange(s, dtype=torch.float64) - c
    d = (r[:, None, None] ** 2 + r[None, :, None] ** 2 + r[None, None, :] ** 2).sqrt()
    lab = (d < s / 4).long()
    if classes > 2:
        lab[d < s / 8] = 2
    return lab[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="c2fnas-panc")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    arch = architecture(args.arch, args.width, args.size)
    net = C2FNASNet(arch, seed=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-5)
    x = torch.randn(1, arch["inputChannels"], args.size, args.size, args.size, generator=torch.Generator().manual_seed(3))
    labels = sphere_labels(args.size, arch["classes"])
    times, losses = [], []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = dice_ce_loss(net(x), labels)
        loss.backward()
        opt.step()
        ms = (time.perf_counter() - t0) * 1e3
        if i >= args.warmup:
            times.append(ms)
            losses.append(loss.item())
    rss = peak_rss_mib()
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"side": "torch", "arch": arch["name"], "threads": torch.get_num_threads(), "size": args.size,
                      "params": params, "stepsMs": times, "losses": losses, "peakRSSMiB": rss,
                      "torch": torch.__version__}, sort_keys=True))


if __name__ == "__main__":
    main()
