#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through swiftc -sanitize=fuzzer) of the NIfTI header path and
# the JSON readers. Builds the project's library modules with fuzzer instrumentation into
# .build-fuzz (incremental), links one binary per target, and runs each for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     SECONDS per target (default 60); 0 only builds
#   FUZZ_RUNS=N tests/fuzz/run.sh 0 nifti       a bounded number of executions instead of a time
#   targets: nifti dataset config architecture (default: all)
#
# The corpus grows in .build-fuzz/corpus/TARGET (seeded from the fixtures); crashes are written to
# tests/fuzz/crashes/TARGET/ and make this script fail: turn each into a regression test
# (Tests/VolumeTests/NIfTIFuzzTests.swift, Tests/EngineTests/JSONFuzzTests.swift), then delete it.
set -euo pipefail
# The Swift runtime backtracer would take over the crash signal before libFuzzer saves the input.
export SWIFT_BACKTRACE=enable=no
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${1:-60}; [ $# -gt 0 ] && shift
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(nifti dataset config architecture)
build="$root/.build-fuzz"
rel="$build/release"

nice -n 10 swift build -c release --build-path "$build" --target Engine -Xswiftc -sanitize=fuzzer 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
[ -f "$rel/Modules/Engine.swiftmodule" ] || { echo "fuzz: instrumented build failed"; exit 1; }

cflags=(-Xcc -fmodule-map-file="$rel/CNIfTI.build/module.modulemap" -Xcc -I -Xcc "$root/Sources/CNIfTI/include"
        -Xcc -fmodule-map-file="$rel/CConvKernels.build/module.modulemap" -Xcc -I -Xcc "$root/Sources/CConvKernels/include"
        -Xcc -fmodule-map-file="$rel/CThreadAffinity.build/module.modulemap" -Xcc -I -Xcc "$root/Sources/CThreadAffinity/include"
        -Xcc -fmodule-map-file="$rel/CPlaneKernels.build/module.modulemap" -Xcc -I -Xcc "$root/Sources/CPlaneKernels/include"
        -Xcc -fmodule-map-file="$root/Sources/COpenBLAS/module.modulemap" $(pkg-config --cflags openblas))
objects=()
for m in Files Tensor NN Volume Search Engine CConvKernels CPlaneKernels CThreadAffinity CNIfTI; do objects+=("$rel/$m.build"/*.o); done
libs=(-lnifti2 -lznz -lz -lm $(pkg-config --libs openblas))

declare -A source=([nifti]=FuzzNIfTI [dataset]=FuzzDatasetJSON [config]=FuzzConfigJSON [architecture]=FuzzArchitectureJSON)
declare -A maxlen=([nifti]=2048 [dataset]=4096 [config]=4096 [architecture]=4096)
status=0
for t in "${targets[@]}"; do
    src="$root/tests/fuzz/${source[$t]}.swift"
    bin="$build/fuzz-$t"
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ -n "$(find "$rel/Modules" -newer "$bin" -name '*.swiftmodule' -print -quit)" ]; then
        nice -n 10 swiftc -O -parse-as-library -sanitize=fuzzer -module-name "Fuzz_$t" -I "$rel/Modules" "${cflags[@]}" \
            "$src" "${objects[@]}" "${libs[@]}" -o "$bin"
    fi
    corpus="$build/corpus/$t"; crashes="$root/tests/fuzz/crashes/$t"
    mkdir -p "$corpus" "$crashes"
    case $t in
        nifti) cp -n Tests/VolumeTests/Fixtures/*.nii* "$corpus/" 2>/dev/null || true
               for f in Tests/VolumeTests/Fixtures/*.nii.gz; do gzip -dc "$f" > "$corpus/$(basename "$f" .gz)" 2>/dev/null || true; done ;;
        dataset) cp -n sample-data/Task00_Phantom/dataset.json "$corpus/msd.json" 2>/dev/null || true
                 printf '{"channel_names": {"0": "CT", "1": "T2"}, "labels": {"background": 0, "organ": 1}, "numTraining": 0, "file_ending": ".nii.gz"}' > "$corpus/nnunet.json" ;;
        config) printf '{"preset": "tiny", "patch": [16, 16, 16], "population": 3}' > "$corpus/config.json" ;;
        architecture) printf '{"schemaVersion": 1, "name": "c2fnas-panc", "levels": 4, "topology": [1,1,2,2,3,4,3,3,2,1,1,1], "ops": ["2D","P3D","3D","2D","P3D","3D","2D","P3D","3D","2D","P3D","3D"], "baseWidth": 8, "inputChannels": 1, "classes": 3, "patch": [48,48,48], "provenance": {"source": "builtin", "metrics": {}}}' > "$corpus/arch.json" ;;
    esac
    [ "$seconds" = 0 ] && [ -z "${FUZZ_RUNS:-}" ] && continue
    bound=(-max_total_time="$seconds"); [ -n "${FUZZ_RUNS:-}" ] && bound=(-runs="$FUZZ_RUNS")
    log=$(mktemp)
    if ! nice -n 10 "$bin" "$corpus" "${bound[@]}" -max_len="${maxlen[$t]}" -rss_limit_mb=2048 -timeout=20 \
            -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1; then
        status=1
        cp "$log" "$crashes/last-run.log"
        grep -v '^\*\* ERROR' "$log" | grep -E 'ERROR|SUMMARY|Fatal error|artifact|deadly' | head -20
        # A clean clone (CI, fresh-clone-check) is deleted afterwards: the stack and the input go
        # to the output so the crash can be reproduced from the log alone.
        grep -E '^ +#[0-9]+ ' "$log" | head -30 || true
        for f in "$crashes"/crash-* "$crashes"/oom-* "$crashes"/timeout-*; do
            [ -f "$f" ] && echo "fuzz $t: input $(basename "$f") as base64: $(base64 -w0 "$f")"
        done
        echo "fuzz $t: failed; log in $crashes/last-run.log"
    fi
    execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    echo "fuzz $t: ${execs:-?} executions, coverage ${cov:-?} edges, corpus $(ls "$corpus" | wc -l) inputs, crashes $(ls "$crashes" | wc -l)"
    rm -f "$log"
done
exit $status
