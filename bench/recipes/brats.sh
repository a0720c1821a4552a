#!/bin/bash
# The paper's training recipe against nnU-Net's for DLKUNet (issue 30), on the BraTS cases of
# ../shared/data: trained on pat0005 and pat0006, scored on pat0003 and pat0004, which no run sees.
# Recipes (RECIPES), each with every seed of SEEDS, the same epochs, size and batch:
#   paper   Adam 1e-3, the paper's flips and quarter turns (--augment paper), Dice + CE 1:1
#   ds      paper + --deep-supervision (every decoder level)
#   aug     paper with --augment nnunet instead
#   nnunet  --config nnunet-2d: SGD 0.01 Nesterov 0.99, poly, weight decay 3e-5, deep supervision,
#           --augment nnunet, a third of each batch from slices with foreground
#   nnunetv2  nnU-Net v2 itself, its 2d configuration, as many iterations of the same batch
#           (bench/recipes/nnunet.sh; skipped unless NNUNET=1; NNUNET_SEEDS, NNUNET_PATCH)
# Every dlk run is scored twice: plain, and with dlk-infer --tta (mirroring, as nnU-Net predicts).
# Per run and case: the mean Dice over the four tumour classes (dlk-score) and the whole-tumour
# Dice (labels 1-4 against 0, by numpy against OTMultiClass.nii.gz). Segments the held-out (test) cases. Prints a table with paired
# differences against `paper` per seed; writes OUT/results.tsv.
#   DLK_BIN=build/stage/bin bash bench/recipes/brats.sh [OUT]
# Knobs (environment): SEEDS ("1 .. 10"), EPOCHS (20), SIZE (64), BASE (8), VARIANT (M), BATCH (8),
# JOBS (runs at once, 2; one thread each), RECIPES, NNUNET (1: also the nnU-Net v2 anchor),
# PY (python3 with numpy and nibabel).
set -euo pipefail
BIN=${DLK_BIN:-build/stage/bin}
BIN=$(cd "$BIN" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${DLK_TEST_DATA:-$HERE/../../../shared/data}/brats
OUT=${1:-/tmp/dlk-recipes-brats}
SEEDS=${SEEDS:-1 2 3 4 5 6 7 8 9 10} EPOCHS=${EPOCHS:-20} SIZE=${SIZE:-64} BASE=${BASE:-8} VARIANT=${VARIANT:-M}
BATCH=${BATCH:-8} JOBS=${JOBS:-2} RECIPES=${RECIPES:-paper ds aug nnunet} NNUNET=${NNUNET:-0} NNUNET_SEEDS=${NNUNET_SEEDS:-$SEEDS}
[ -d "$DATA/brats_2013_pat0003_1" ] || { echo "brats.sh: no BraTS data in $DATA" >&2; exit 1; }
PY=${PY:-$(for p in python3 /usr/bin/python3; do "$p" -c "import numpy, nibabel" 2>/dev/null && { echo "$p"; break; }; done)}
[ -n "$PY" ] || { echo "brats.sh: no python3 with numpy and nibabel (set PY)" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -s "$OUT/ds/dataset.json" ]; then
  rm -rf "$OUT/ds"
  for c in "pat0005 train" "pat0006 train" "pat0003 test" "pat0004 test"; do
    set -- $c
    d=$DATA/brats_2013_$1_1
    "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c \
      --normalize percentile --label "$d/OTMultiClass.nii.gz" --classes background,necrosis,edema,nonenhancing,enhancing \
      --case "$1" --split-name "$2" -o "$OUT/ds"
  done
fi
recipe_options() {
  case $1 in
    paper) echo "--optimizer adam --lr 0.001 --augment paper" ;;
    ds) echo "--optimizer adam --lr 0.001 --augment paper --deep-supervision" ;;
    aug) echo "--optimizer adam --lr 0.001 --augment nnunet" ;;
    nnunet) echo "--config nnunet-2d" ;;
    *) echo "brats.sh: unknown recipe $1" >&2; exit 2 ;;
  esac
}
# dice PRED_DIR RUN_DIR NAME: RUN_DIR/NAME.json = {case: {"classes": mean 4-class Dice, "whole": whole tumour}}.
dice() {
  "$BIN/dlk-score" -q -p "$1" -t "$OUT/ds" --split test --no-distances --json "$2/$3-scores.json" >/dev/null
  "$PY" - "$1" "$2/$3-scores.json" "$DATA" "$2/$3.json" <<'PY'
import json, sys
import nibabel as nib, numpy as np
pred, scores, data, out = sys.argv[1:5]
r = {}
for c in json.load(open(scores))["cases"]:
    d = list(c["classes"].values())
    p = np.asarray(nib.load(f"{pred}/{c['case']}.nii.gz").dataobj) > 0
    t = np.asarray(nib.load(f"{data}/brats_2013_{c['case']}_1/OTMultiClass.nii.gz").dataobj) > 0
    r[c["case"]] = {"classes": sum(x["dsc"] for x in d) / len(d), "whole": float(2 * (p & t).sum() / (p.sum() + t.sum()))}
json.dump(r, open(out, "w"))
PY
}
run_one() { # RECIPE SEED
  local run=$OUT/$1-s$2
  [ -s "$run/tta.json" ] && return 0
  rm -rf "$run"
  "$BIN/dlk-train" -q "$OUT/ds" -o "$run" $(recipe_options "$1") --variant "$VARIANT" --base-channels "$BASE" --size "$SIZE" \
    --batch "$BATCH" --epochs "$EPOCHS" --seed "$2" -j 1 --device cpu >"$run.log" 2>&1 || { echo "brats.sh: $1 seed $2 failed (see $run.log)" >&2; return 1; }
  local t0 t1 t2
  t0=$(date +%s.%N)
  "$BIN/dlk-infer" -q -m "$run/final.dlkc" "$OUT/ds" --split test -o "$run/pred" --device cpu -j 1
  t1=$(date +%s.%N)
  "$BIN/dlk-infer" -q -m "$run/final.dlkc" "$OUT/ds" --split test -o "$run/pred-tta" --tta --device cpu -j 1
  t2=$(date +%s.%N)
  echo "{\"predict_s\": $(echo "$t1 - $t0" | bc), \"predict_tta_s\": $(echo "$t2 - $t1" | bc)}" >"$run/time.json"
  dice "$run/pred" "$run" plain
  dice "$run/pred-tta" "$run" tta
  echo "brats.sh: $1 seed $2 done" >&2
}
export -f run_one recipe_options dice
export OUT BIN DATA PY EPOCHS SIZE BASE VARIANT BATCH
for r in $RECIPES; do for s in $SEEDS; do echo "$r $s"; done; done | xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1"'
if [ "$NNUNET" = 1 ]; then # nnU-Net v2 at the dlk runs' iterations: epochs x batches per epoch
  slices=$("$PY" -c "import json; d = json.load(open('$OUT/ds/dataset.json')); print(sum(c.get('slices', 0) for c in d['cases'] if c.get('split') == 'train'))" 2>/dev/null || echo 310)
  # NNUNET_PATCH: nnU-Net's patch (its own plan, 256x256, takes 11.5 s a step here: 2.5 h a seed);
  # 64x64 by default, the dlk runs' input size (at 1 mm where dlk resizes whole slices to it).
  ITERATIONS=$((EPOCHS * ((slices + BATCH - 1) / BATCH))) BATCH=$BATCH SEEDS="$NNUNET_SEEDS" PATCH=${NNUNET_PATCH-64 64} PREDICT_TRAIN=0 \
    bash "$HERE/nnunet.sh" "$OUT/nnunetv2"
  for s in $NNUNET_SEEDS; do
    run=$OUT/nnunetv2/nnunet-s$s
    [ -s "$run/tta.json" ] && continue
    dice "$run/pred" "$run" plain
    dice "$run/pred-tta" "$run" tta
  done
fi
"$PY" "$HERE/table.py" "$OUT" "$EPOCHS" $RECIPES $([ "$NNUNET" = 1 ] && echo nnunetv2)
