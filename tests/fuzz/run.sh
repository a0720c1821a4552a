#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan, seeds them and runs them.
# usage: tests/fuzz/run.sh [TARGET|all (default)] [SECONDS per target (default 120)] [DATA_DIR]
#   TARGET: shard-reader, checkpoint-reader, dataset-json or score-json (with or without "fuzz-");
#   a number first (run.sh 120 [DATA_DIR]) runs every target for that many seconds.
# Each target keeps its own corpus (tests/fuzz/corpus/TARGET) and writes crashing inputs to
# tests/fuzz/artifacts/TARGET/. Exits non-zero at the first target that finds something.
set -euo pipefail
cd "$(dirname "$0")/../.."
all=(shard-reader checkpoint-reader dataset-json score-json)
[[ "${1:-}" =~ ^[0-9]+$ ]] && set -- all "$@"
target=${1:-all}
secs=${2:-120}
data=${3:-../shared/data}
case "$target" in
  all) targets=("${all[@]}") ;;
  fuzz-*) targets=("${target#fuzz-}") ;;
  *) targets=("$target") ;;
esac
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: error: unknown target '$t' (${all[*]})" >&2; exit 2; }
done
scripts/install-deps --fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDLK_FUZZ=ON -DDLK_WITH_TORCH=OFF -DDLK_WITH_ITK=OFF -DDLK_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz-seeds "${targets[@]/#/fuzz-}"

corpus=tests/fuzz/corpus
mkdir -p "$corpus"
# The regular build's dlk-prep (or $DLK_PREP), where there is one and the shared data (small
# inputs: libFuzzer caps their size).
prep=${DLK_PREP:-build/tools/dlk-prep} # DLK_PREP: another build's
score=${DLK_SCORE:-$(dirname "$prep")/dlk-score} # DLK_SCORE: beside it unless given
ct=$data/totalseg-ct-small
have_prep() { [ -x "$prep" ] && [ -d "$ct" ]; }

seed() { # seed TARGET: fills tests/fuzz/corpus/TARGET
  local dir=$corpus/$1
  mkdir -p "$dir"
  case "$1" in
    shard-reader)
      if have_prep; then
        "$prep" -q --image "$ct/ct.nii.gz" --label "$ct/seg.nii.gz" --label-map totalseg-synapse \
          --case ct --axis x -o - >"$dir/ct-axis-x.dlks"
        "$prep" -q --image "$ct/ct.nii.gz" --case ct-unlabelled --dtype float32 --zstd-level 1 -o - \
          >"$dir/ct-f32.dlks"
        cat "$dir/ct-axis-x.dlks" "$dir/ct-axis-x.dlks" >"$dir/stream-of-two.dlks"
      else
        echo "run.sh: no $prep or no $ct: fuzzing shards from an empty corpus" >&2
      fi ;;
    checkpoint-reader) # checkpoints from the library's writer (dlk-train's are too big to seed)
      build-fuzz/tests/fuzz/fuzz-seeds "$dir" "$dir/.dataset" && rm -r "$dir/.dataset" ;;
    dataset-json) # the library's dataset.json, and dlk-prep's for a real case where it can run
      local tmp
      tmp=$(mktemp -d)
      build-fuzz/tests/fuzz/fuzz-seeds "$tmp/ck" "$tmp/ds"
      cp "$tmp/ds/dataset.json" "$dir/seed-dataset.json"
      if have_prep && "$prep" -q --image "$ct/ct.nii.gz" --label "$ct/seg.nii.gz" --label-map totalseg-synapse \
           --case ct -o "$tmp/prep" >/dev/null 2>&1; then
        cp "$tmp/prep/dataset.json" "$dir/dlk-prep-dataset.json"
      else
        echo "run.sh: no $prep or no $ct: no dataset.json from dlk-prep among the seeds" >&2
      fi
      rm -rf "$tmp" ;;
    score-json) # dlk-score's JSON in every mode from its own writer, and a real run where one can be made
      local tmp
      tmp=$(mktemp -d)
      build-fuzz/tests/fuzz/fuzz-seeds "$tmp/ck" "$tmp/ds" "$tmp/scores"
      for f in "$tmp"/scores/*.json; do cp "$f" "$dir/seed-$(basename "$f")"; done
      if have_prep && [ -x "$score" ] && "$prep" -q --image "$ct/ct.nii.gz" --label "$ct/seg.nii.gz" \
           --label-map totalseg-synapse --case ct -o - >"$tmp/ct.dlks" 2>/dev/null \
         && "$score" -q --pred "$tmp/ct.dlks" --truth "$tmp/ct.dlks" --mode monai --keep-largest all \
           --json "$dir/dlk-score-monai.json" >/dev/null 2>&1; then :
      else
        echo "run.sh: no $prep, $score or $ct: no score file from dlk-score among the seeds" >&2
      fi
      rm -rf "$tmp" ;;
  esac
}

for t in "${targets[@]}"; do
  seed "$t"
  mkdir -p "tests/fuzz/artifacts/$t"
  echo "run.sh: fuzz-$t for ${secs}s" >&2
  dict=() # names and keys of the JSON files (tests/fuzz/names.dict)
  [[ $t == dataset-json || $t == score-json ]] && dict=(-dict=tests/fuzz/names.dict)
  "build-fuzz/tests/fuzz/fuzz-$t" "$corpus/$t" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
    "${dict[@]}" -artifact_prefix="tests/fuzz/artifacts/$t/" -print_final_stats=1
done
