"""Shared by the interleaved benchmarks (bench/step.py, bench/infer.py): run both sides in turn, flipping the
order every round, so a noisy shared machine slows both alike."""

import json
import os
import subprocess


def run(cmd, threads):
    """Runs one benchmark process with the thread count pinned for OpenBLAS, OpenMP and MKL; returns its
    last stdout line as JSON."""
    env = dict(os.environ, OPENBLAS_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", "HASWELL"),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def interleave(rounds, commands, threads):
    """commands: [(side, argv), ...]. Yields (round, side, report) for every side in every round."""
    for r in range(rounds):
        order = commands if r % 2 == 0 else commands[::-1]
        for side, cmd in order:
            yield r, side, run(cmd, threads)
