#!/usr/bin/env bash
# Scale-out test against a real one-node Slurm cluster (started here, stopped on any exit):
#   1. a tiny search run locally in one process            -> reference export
#   2. the same search with --executor local --jobs 2      -> same weights bytes
#   3. the same search through --executor slurm --wait     -> same weights bytes
#   4. through Slurm again, with one array task scancel'ed mid-run: the dependent job must be
#      cancelled (not left pending), the cluster must keep its checkpoint, and re-running the same
#      command must resubmit only what is not done and end with the same weights bytes.
# Closes with "slurm-e2e: N passed, M failed" and the wall time of 1-3.
# Usage: tests/slurm/run.sh [path/to/c2fnas]   (needs root to install and run Slurm)
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-.build/release/c2fnas}")
CLUSTER=tests/slurm/local-cluster.sh
SAMPLE=$(realpath sample-data/Task00_Phantom)
WORK=$(mktemp -d /tmp/c2fnas-slurm-e2e.XXXXXX)
chmod 755 "$WORK"
passed=0; failed=0
check() { if eval "$2"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi; }
finish() {
  $CLUSTER stop || true
  echo "slurm-e2e: $passed passed, $failed failed"
  rm -rf "$WORK"
}
trap finish EXIT

[[ -x $BIN ]] || { echo "slurm-e2e: no c2fnas binary at $BIN (build first)"; failed=1; exit 1; }
$CLUSTER install || { failed=1; exit 1; }
$CLUSTER start || { failed=1; exit 1; }
eval "$($CLUSTER env)"

# The tiny preset, shortened so that each search takes seconds; 3 clusters, so the array has 3 tasks.
# Each cluster trains long enough (supernetSteps) to be cancelled while it runs.
SETS=(--preset tiny --seed 3 --threads 1)
for s in width=4 patch=16,32,32 clusters=3 supernetSteps=120 population=4 tournament=2 generations=2 \
         fineSteps=6 finalSteps=12 validateEvery=6 batch=1 fitnessCases=1 fitnessPatches=4 overlap=0 \
         fitnessOverlap=0 audit=true auditTopologies=3 finalistSelection=train finalistSteps=4 checkpointEverySeconds=0.5; do
  SETS+=(--set "$s")
done
weights() { sha256sum "$1/export/weights.safetensors" 2>/dev/null | cut -d' ' -f1; }

t0=$SECONDS
"$BIN" search "$SAMPLE" --run "$WORK/local" "${SETS[@]}" > "$WORK/local.log" 2>&1
t_local=$((SECONDS - t0))
ref=$(weights "$WORK/local")
check "local one-process search exports weights" '[[ -n $ref ]]'

t0=$SECONDS
"$BIN" search "$SAMPLE" --run "$WORK/jobs2" "${SETS[@]}" --executor local --jobs 2 > "$WORK/jobs2.log" 2>&1
t_jobs=$((SECONDS - t0))
check "--executor local --jobs 2: same weights bytes" '[[ $(weights "$WORK/jobs2") == "$ref" ]]'
check "--executor local --jobs 2: each cluster wrote its own folder" '[[ -s $WORK/jobs2/clusters/0/result.json && -s $WORK/jobs2/clusters/2/result.json ]]'

t0=$SECONDS
"$BIN" search "$SAMPLE" --run "$WORK/slurm" "${SETS[@]}" --executor slurm --wait > "$WORK/slurm.log" 2>&1
rc=$?
t_slurm=$((SECONDS - t0))
check "--executor slurm --wait exits 0" '[[ $rc -eq 0 ]]' || tail -20 "$WORK/slurm.log"
check "--executor slurm: same weights bytes as the local run" '[[ $(weights "$WORK/slurm") == "$ref" ]]'
check "--executor slurm: task logs written" '[[ -s $WORK/slurm/logs/cluster-1.log && -s $WORK/slurm/logs/finish.log ]]'
check "c2fnas status reports a finished run" '"$BIN" status "$WORK/slurm" | grep -q "^finished"'

# 4. Cancel one array task while it trains.
K="$WORK/kill"
"$BIN" search "$SAMPLE" --run "$K" "${SETS[@]}" --executor slurm > "$WORK/kill-submit.log" 2>&1
array=$(sed -nE 's/^submitted array job ([0-9]+).*/\1/p' "$WORK/kill-submit.log")
fin=$(sed -nE 's/^submitted job ([0-9]+).*/\1/p' "$WORK/kill-submit.log")
check "submission prints the array and the dependent job ids" '[[ -n $array && -n $fin ]]'
# Wait until cluster 1 has a checkpoint in its supernet training, then cancel that task only.
end=$((SECONDS + 120))
until [[ -s $K/clusters/1/checkpoints/LATEST ]] || (( SECONDS > end )); do sleep 0.1; done
scancel "${array}_1"
end=$((SECONDS + 60))
while [[ -n $(squeue --me -h -o %A 2>/dev/null) ]] && (( SECONDS < end )); do sleep 0.5; done
check "the dependent job is cancelled, not left pending" '[[ -z $(squeue --me -h -o %A) ]]'
check "no export after a cancelled task" '[[ ! -e $K/export/weights.safetensors ]]'
check "the cancelled cluster kept its checkpoint" '[[ -s $K/clusters/1/checkpoints/LATEST && ! -e $K/clusters/1/result.json ]]'
"$BIN" status "$K" > "$WORK/kill-status.log" 2>&1
check "status names the cancelled cluster and its log" 'grep -E "^1 " "$WORK/kill-status.log" | grep -q "cluster-1.log"' || cat "$WORK/kill-status.log"
"$BIN" search "$SAMPLE" --run "$K" "${SETS[@]}" --executor slurm --wait > "$WORK/kill-rerun.log" 2>&1
rc=$?
check "the rerun exits 0" '[[ $rc -eq 0 ]]' || tail -20 "$WORK/kill-rerun.log"
check "the rerun resubmits only the clusters not done" 'grep -qE "^submitted array job [0-9]+: clusters 1 \(" "$WORK/kill-rerun.log"'
check "the cancelled cluster resumed from its checkpoint" 'grep -q "resumed from" "$K/logs/cluster-1.log"'
check "after the cancel and rerun: same weights bytes" '[[ $(weights "$K") == "$ref" ]]'

echo "slurm-e2e wall times: local one process ${t_local} s, --executor local --jobs 2 ${t_jobs} s, --executor slurm ${t_slurm} s"
(( failed == 0 ))
