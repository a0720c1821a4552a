#!/usr/bin/env bash
# Builds the shard-reader fuzzer with clang, libFuzzer, ASan and UBSan, seeds it with real
# shards and runs it. usage: tests/fuzz/run.sh [SECONDS (default 120)] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-120}
data=${2:-../shared/data}
scripts/install-deps --fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDLK_FUZZ=ON -DDLK_WITH_TORCH=OFF -DDLK_WITH_ITK=OFF -DDLK_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz-shard-reader
# Seeds: real shards made by the regular build's dlk-prep (small ones: libFuzzer caps input size).
corpus=tests/fuzz/corpus
mkdir -p "$corpus" tests/fuzz/artifacts
if [ -x build/tools/dlk-prep ] && [ -d "$data/totalseg-ct-small" ]; then
  ct=$data/totalseg-ct-small
  build/tools/dlk-prep -q --image "$ct/ct.nii.gz" --label "$ct/seg.nii.gz" --label-map totalseg-synapse \
    --case ct --axis x -o - >"$corpus/ct-axis-x.dlks"
  build/tools/dlk-prep -q --image "$ct/ct.nii.gz" --case ct-unlabelled --dtype float32 --zstd-level 1 -o - \
    >"$corpus/ct-f32.dlks"
  cat "$corpus/ct-axis-x.dlks" "$corpus/ct-axis-x.dlks" >"$corpus/stream-of-two.dlks"
else
  echo "run.sh: no build/tools/dlk-prep or no $data: fuzzing from an empty corpus" >&2
fi
build-fuzz/tests/fuzz/fuzz-shard-reader "$corpus" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
  -artifact_prefix=tests/fuzz/artifacts/ -print_final_stats=1
