"""Interleaved sliding-window inference benchmark: ours (`c2fnas bench infer`) vs MONAI's
sliding_window_inference (bench/infer_peer.py) on the same network, volume, window, overlap and thread count.
Alternates the two processes `--rounds` times per thread count (order flipped every round), then prints median /
best seconds per volume, seconds per window, peak RSS and the ratios as a Markdown table.

    OPENBLAS_CORETYPE=HASWELL python3 bench/infer.py --rounds 2 --runs 2 [--threads 1 2] [--width 16]
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from interleave import interleave  # noqa: E402

ROOT = os.path.join(HERE, "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "c2fnas"))
    ap.add_argument("--arch", default="c2fnas-panc")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--roi", type=int, default=64)
    ap.add_argument("--overlap", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    rows, n = [], 0  # n: window count, as reported by our side
    for t in args.threads:
        common = ["--arch", args.arch, "--width", str(args.width), "--size", str(args.size), "--roi", str(args.roi),
                  "--overlap", str(args.overlap), "--threads", str(t), "--runs", str(args.runs), "--warmup", "1"]
        ours, theirs = {"s": [], "rss": [], "sum": []}, {"s": [], "rss": [], "sum": []}
        commands = [("swift", [args.binary, "bench", "infer"] + common),
                    ("monai", [sys.executable, os.path.join(HERE, "infer_peer.py")] + common)]
        for r, side, rep in interleave(args.rounds, commands, t):
            acc = ours if side == "swift" else theirs
            acc.setdefault("params", set()).add(rep["params"])
            if side == "swift":
                n = rep["windows"]
            acc["s"] += rep["runsS"]
            acc["rss"].append(rep["peakRSSMiB"])
            acc["sum"].append(rep["checksum"])
            print(f"# {t}T {side} round {r}: {[round(s, 2) for s in rep['runsS']]} s, RSS {rep['peakRSSMiB']:.0f} "
                  f"MiB, params {rep['params']}, mean probability {rep['checksum']:.4f}", file=sys.stderr, flush=True)
        if ours["params"] != theirs["params"]:
            sys.exit(f"parameter counts differ (ours {ours['params']}, torch {theirs['params']}): not the same network")
        rows.append((t, statistics.median(ours["s"]), min(ours["s"]), max(ours["rss"]),
                     statistics.median(theirs["s"]), min(theirs["s"]), max(theirs["rss"])))
    print(f"| {args.arch} width {args.width}, {args.size}^3, roi {args.roi}^3, overlap {args.overlap} ({n} windows) "
          "| threads | ours s med / best | MONAI s med / best | ours/MONAI (med, best) | s per window ours / MONAI "
          "| peak RSS ours / MONAI MiB |")
    print("|---|---|---|---|---|---|---|")
    for t, om, ob, orss, tm, tb, trss in rows:
        print(f"| | {t} | {om:.2f} / {ob:.2f} | {tm:.2f} / {tb:.2f} | {om / tm:.2f}, {ob / tb:.2f} "
              f"| {om / n:.3f} / {tm / n:.3f} | {orss:.0f} / {trss:.0f} |")


if __name__ == "__main__":
    main()
