#!/usr/bin/env bash
# End-to-end test of the workbench as a person uses it, in a detached tmux (no TTY needed):
# launch on the sample with a reduced preset, see curves and the topology grid, pause (PAUSED
# only once the engine acknowledges), resume, move through slices and cases, export a candidate
# and find its files, quit with confirmation, exit code 0. Screens are kept in $ARTIFACTS.
# Usage: tests/e2e/tui-smoke.sh [path/to/c2fnas-tui]
set -u
BIN=$(realpath "${1:-.build/release/c2fnas-tui}")
ARTIFACTS=${ARTIFACTS:-test-artifacts/tui}
mkdir -p "$ARTIFACTS"
WORK=$(mktemp -d); RUN="$WORK/run"; EXITF="$WORK/exit"
T="tmux -L c2fnas-e2e-$$ -f /dev/null"
trap '$T kill-server 2>/dev/null; rm -rf "$WORK"' EXIT
passed=0; failed=0
ok()   { passed=$((passed+1)); echo "ok   $1"; }
TARGET=app
fail() { failed=$((failed+1)); echo "FAIL $1"; $T capture-pane -p -t "$TARGET" > "$ARTIFACTS/failure-$passed-$failed.txt" 2>/dev/null; }
screen() { $T capture-pane -p -t "$TARGET" 2>/dev/null; }
# wait_for PATTERN SECONDS: until the screen matches (grep -P, so braille ranges work).
wait_for() {
  local deadline=$((SECONDS + ${2:-60}))
  until screen | grep -qP -- "$1"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}
check() { if wait_for "$2" "${3:-60}"; then ok "$1"; else fail "$1 (no /$2/ on screen)"; fi; }

$T new-session -d -s app -x 100 -y 30 \
  "cd '$(pwd)' && TERM=tmux-256color SWIFT_BACKTRACE=interactive=no '$BIN' --run '$RUN' \
   --set supernetSteps=40 --set population=3 --set tournament=2 --set generations=4 \
   --set fineSteps=10 --set finalSteps=20 --set validateEvery=10 --set clusters=2; echo \$? > '$EXITF'; sleep 60"

check "header names the dataset and stage" 'c2fnas ─ Task00_Phantom ─ (PLAN|COARSE)' 60
check "loss curve is drawn in braille" 'train loss [0-9.]+' 120
check "braille points appear" '[\x{2801}-\x{28FF}]' 60
check "topology grid shows levels" 'L1 .*●' 60
screen > "$ARTIFACTS/running.txt"

$T send-keys -t app ' '
check "pause is acknowledged by the engine" 'PAUSED' 60
screen > "$ARTIFACTS/paused.txt"
$T send-keys -t app ' '
check "resume" '▶ running' 30

$T send-keys -t app Right
$T send-keys -t app ']'
check "next case in the slice viewer" 'case 2/12' 20
$T send-keys -t app c
check "coronal axis" 'coronal' 20

check "candidates are listed" '#1 (◆ )?[0-9.]+ [0-9]+' 180
$T send-keys -t app e
deadline=$((SECONDS + 60))
until ls "$RUN"/candidates/*/architecture.json >/dev/null 2>&1 || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
if ls "$RUN"/candidates/*/architecture.json "$RUN"/candidates/*/plan.json "$RUN"/candidates/*/model-card.md >/dev/null 2>&1; then
  ok "export writes the candidate's files"
else
  fail "export writes the candidate's files"
fi
check "the export path is shown" 'exported to .*candidates' 30
screen > "$ARTIFACTS/exported.txt"

$T send-keys -t app q
check "quit asks first" 'Quit\?' 20
$T send-keys -t app y
deadline=$((SECONDS + 120))
until [ -s "$EXITF" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
if [ "$(cat "$EXITF" 2>/dev/null)" = "0" ]; then ok "quits cleanly with exit code 0"; else fail "quits cleanly with exit code 0 (got '$(cat "$EXITF" 2>/dev/null)')"; fi
if ls "$RUN"/checkpoints/ckpt-* >/dev/null 2>&1; then ok "a checkpoint exists after quitting"; else fail "a checkpoint exists after quitting"; fi

# --attach to a run of a second dataset (3 cases, another seed, so other shapes): the screen must
# show that dataset's case count and the first case's shape, not the bundled sample's.
CLI="$(dirname "$BIN")/c2fnas"
SECOND="$WORK/Task09_Second"; RUN2="$WORK/run2"
"$CLI" sample "$SECOND" --cases 3 --test-cases 0 --seed 5 >/dev/null
"$CLI" search "$SECOND" --run "$RUN2" --set supernetSteps=5 --set population=2 --set tournament=2 \
  --set generations=1 --set fineSteps=2 --set finalSteps=2 --set validateEvery=2 --set clusters=1 \
  > "$WORK/search2.log" 2>&1 &
SEARCH2=$!
deadline=$((SECONDS + 120))
until [ -s "$RUN2/plan.json" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
# NIfTI-1 dim[1..3] are int16 at byte 42 of the header.
read -r SX SY SZ < <(zcat "$SECOND/imagesTr/phantom_001.nii.gz" | head -c 48 | od -An -t d2 -j 42)
$T new-session -d -s attach -x 100 -y 30 "cd '$WORK' && TERM=tmux-256color '$BIN' --attach '$RUN2'; sleep 60"
TARGET=attach
check "attach shows the run's own dataset (3 cases, first case ${SX}×${SY}×${SZ})" "case 1/3 ${SX}×${SY}×${SZ}" 30
check "attach header names the second dataset" 'Task09_Second' 30
screen > "$ARTIFACTS/attached.txt"
$T send-keys -t attach ']'
check "attach moves to case 2 of the run's dataset" 'case 2/3' 20
$T send-keys -t attach q
kill "$SEARCH2" 2>/dev/null; wait "$SEARCH2" 2>/dev/null
mv "$SECOND" "$SECOND-moved"
if "$BIN" --attach "$RUN2" </dev/null 2>&1 | grep -q "moved or deleted.*--dataset"; then
  ok "attach says the dataset moved and offers --dataset"
else
  fail "attach says the dataset moved and offers --dataset"
fi
$T new-session -d -s attach2 -x 100 -y 30 "TERM=tmux-256color '$BIN' --attach '$RUN2' --dataset '$SECOND-moved'; sleep 60"
TARGET=attach2
check "attach --dataset finds the moved folder" "case 1/3 ${SX}×${SY}×${SZ}" 30
$T send-keys -t attach2 q

echo "tui-e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
