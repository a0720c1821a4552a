#!/usr/bin/env bash
# What dlk-infer's batch pipeline (--prefetch) buys on this machine: the same run with each batch's
# stages in turn (--prefetch 0) and pipelined (--prefetch 2), alternated REPEATS times, from
# volumes to label volumes, one network thread (-j 1: the path a GPU run takes; with -j > 1 on a
# CPU each worker runs its own batches' stages and --prefetch does not apply).
#   Input: the four BraTS 2013 cases of ../shared/data as nnU-Net-named channels (FLAIR, T1c;
#   240x240x155), so reading (gzip), normalizing, cutting out, resizing, the network, argmax,
#   putting back, encoding and writing all count.
#   Model: CHECKPOINT, a two-channel BraTS checkpoint (bench/recipes/brats.sh's, e.g.
#   /tmp/rcp/paper-s1/final.dlkc: DLKUNet-M, base 8, 64x64); without one, one is trained here for
#   one epoch (the rate does not depend on the weights).
# Prints one row per run and the medians: wall seconds, slices/s, the stages' summed seconds and
# the network's idle share (--stats).
# usage: bash bench/infer/pipeline.sh [DATA_DIR=../shared/data]   (DLK_BIN, CHECKPOINT, REPEATS=3, BATCH=8)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$(realpath "${1:-../shared/data}")/brats
BIN=${DLK_BIN:-build/stage/bin}
REPEATS=${REPEATS:-3} BATCH=${BATCH:-8}
W=$(mktemp -d /tmp/dlk-pipeline.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/in"
for d in "$DATA"/brats_2013_*_1; do
  c=$(basename "$d" | sed 's/^brats_2013_//; s/_1$//')
  ln -s "$d/Flair_subtrMeanDivStd.nii.gz" "$W/in/${c}_0000.nii.gz"
  ln -s "$d/T1c_subtrMeanDivStd.nii.gz" "$W/in/${c}_0001.nii.gz"
done
M=${CHECKPOINT:-}
if [ -z "$M" ]; then
  for d in "$DATA"/brats_2013_*_1; do
    "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" \
      --label "$d/OTMultiClass.nii.gz" --case "$(basename "$d")" --split-name train -o "$W/ds"
  done
  "$BIN/dlk-train" -q "$W/ds" -o "$W/run" --variant M --base-channels 8 --size 64 --batch 8 --epochs 1 --device cpu
  M=$W/run/final.dlkc
fi
echo "dlk-infer -m $M (4 BraTS cases, 620 slices) -j 1 --batch $BATCH; $(nproc) cores, $(uptime | sed 's/.*load/load/')"
for r in $(seq "$REPEATS"); do
  for q in 0 2; do
    "$BIN/dlk-infer" -m "$M" "$W/in" -o "$W/out-$q" --device cpu -j 1 --batch "$BATCH" --prefetch "$q" \
      --stats "$W/stats-$q-$r.json" -q
  done
done
python3 - "$W" "$REPEATS" <<'PY'
import json, statistics, sys
w, n = sys.argv[1], int(sys.argv[2])
print("| --prefetch | wall s | slices/s | stages' sum s | network s | idle share |")
print("|---|---|---|---|---|---|")
for q in (0, 2):
    runs = [json.load(open(f"{w}/stats-{q}-{r}.json")) for r in range(1, n + 1)]
    for s in runs:
        print(f"| {q} | {s['seconds']:.2f} | {s['slices_per_s']:.1f} | {sum(s['stage_seconds'].values()):.2f} | "
              f"{s['stage_seconds']['network']:.2f} | {s['network_idle_share']:.2f} |")
    med = lambda k: statistics.median(s[k] for s in runs)
    print(f"| {q} median | {med('seconds'):.2f} | {med('slices_per_s'):.1f} | | | {med('network_idle_share'):.2f} |")
PY
for f in "$W"/out-0/*; do cmp -s "$f" "$W/out-2/$(basename "$f")" || { echo "label maps differ: $(basename "$f")"; exit 1; }; done
echo "label maps of --prefetch 0 and 2: byte-identical"
