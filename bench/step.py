"""Interleaved training-step benchmark: ours (`c2fnas bench step`) vs the PyTorch peer (bench/peer.py) on the
same architecture, input size and thread count. Alternates the two processes `--rounds` times per setting
(order flipped every round), then prints median / best step ms, peak RSS and the ratios as a Markdown table.

    OPENBLAS_CORETYPE=HASWELL python3 bench/step.py --rounds 3 --steps 3 [--threads 1 2] [--size 64]
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interleave import interleave  # noqa: E402

ROOT = os.path.join(HERE, "..")
ARCHS = [("c2fnas-panc", "c2fnas-panc"), ("supernet path", os.path.join(HERE, "supernet-path.json"))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "c2fnas"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--archs", nargs="+", default=[a for a, _ in ARCHS])
    args = ap.parse_args()
    rows = []
    for label, arch in ARCHS:
        if label not in args.archs:
            continue
        for t in args.threads:
            common = ["--arch", arch, "--width", str(args.width), "--size", str(args.size), "--threads", str(t),
                      "--steps", str(args.steps), "--warmup", "1"]
            ours, theirs = {"ms": [], "rss": []}, {"ms": [], "rss": []}
            commands = [("swift", [args.binary, "bench", "step"] + common),
                        ("torch", [sys.executable, os.path.join(HERE, "peer.py")] + common)]
            for r, side, rep in interleave(args.rounds, commands, t):
                acc = ours if side == "swift" else theirs
                acc.setdefault("params", set()).add(rep["params"])
                acc["ms"] += rep["stepsMs"]
                acc["rss"].append(rep["peakRSSMiB"])
                print(f"# {label} {t}T {side} round {r}: steps {[round(m) for m in rep['stepsMs']]} ms, "
                      f"loss {rep['losses'][-1]:.4f}, RSS {rep['peakRSSMiB']:.0f} MiB, params {rep['params']}",
                      file=sys.stderr, flush=True)
            if ours["params"] != theirs["params"]:
                sys.exit(f"{label}: parameter counts differ (ours {ours['params']}, torch {theirs['params']}): "
                         "not the same network")
            med = lambda a: statistics.median(a["ms"])  # noqa: E731
            rows.append((label, t, med(ours), min(ours["ms"]), max(ours["rss"]), med(theirs), min(theirs["ms"]),
                         max(theirs["rss"])))
    print(f"| network ({args.size}^3, width {args.width}) | threads | ours ms med / best | torch ms med / best "
          "| step ours/torch (med, best) | peak RSS ours / torch MiB | RSS ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, t, om, ob, orss, tm, tb, trss in rows:
        print(f"| {label} | {t} | {om:.0f} / {ob:.0f} | {tm:.0f} / {tb:.0f} | {om / tm:.2f}, {ob / tb:.2f} "
              f"| {orss:.0f} / {trss:.0f} | {orss / trss:.2f} |")


if __name__ == "__main__":
    main()
