#!/usr/bin/env bash
# The anchor row of the recipe comparison: nnU-Net v2 itself (pip nnunetv2 2.8.1, torch 2.11.0, its '2d'
# configuration) trained and run on CPU on the BraTS 2013 cases of ../shared/data, for as many iterations and
# as large a batch as a short dlk run, one training per seed.
#   bash bench/recipes/nnunet.sh [OUT=/tmp/dlk-nnunet]
#   e.g. SEEDS=1 ITERATIONS=100 PATCH="128 128" bash bench/recipes/nnunet.sh /tmp/nnunet-try
# What it does:
#  1. Python: NNUNET_PY if set (a python with nnunetv2), else the venv ~/.cache/dlk/nnunet-venv, made when
#     absent (python3 -m venv; pip install nnunetv2==2.8.1 torch==2.11.0 from PyPI: PyPI's Linux torch is the
#     CUDA build, about 5.6 GB installed, about 2 minutes here; TORCH_INDEX=URL installs torch from another
#     index first, e.g. PyTorch's CPU wheels where reachable). Copies nnunet_trainer_dlkbench.py into that
#     nnunetv2's training/nnUNetTrainer/ (nnU-Net finds trainers by class name there, for training and
#     prediction alike).
#  2. Data: DATA=${DLK_TEST_DATA:-<repo>/../shared/data}/brats/brats_2013_CASE_1 -> the nnU-Net raw dataset
#     OUT/nnUNet_raw/Dataset${DATASET_ID}_BraTS2013dlk: imagesTr|imagesTs/CASE_0000 (FLAIR) and _0001 (T1c), links
#     to the originals; labelsTr/CASE = OTMultiClass as uint8 (it is stored as float32); channel_names
#     FLAIR and T1c (nnU-Net's z-score per case), labels background 0, necrosis 1, edema 2, nonenhancing 3,
#     enhancing 4. TRAIN_CASES train (fold 'all': no cross-validation split), TEST_CASES go to imagesTs.
#  3. nnUNetv2_plan_and_preprocess -c 2d -np 1 --verify_dataset_integrity (about 40 s). nnU-Net's 2d plan
#     here: patch 256x256, batch 14, PlainConvUNet of 7 stages, features 32 64 128 256 512 512 512,
#     instance norm, leaky ReLU, 2 convs per stage. Then a configuration 2d_dlkbench is added to
#     nnUNetPlans.json: inherits_from 2d (same preprocessed data) with batch_size BATCH and, when PATCH is set,
#     patch_size PATCH and the network nnU-Net's planner derives for that patch (get_pool_and_conv_props:
#     bottleneck 4x4, features 32*2^i up to 512), e.g. 128x128: 6 stages to 512; 64x64: 5 stages to 512.
#  4. Per seed, nnUNetTrainer_dlkbench (nnunet_trainer_dlkbench.py), fold all, CPU: nnUNetTrainer unchanged
#     (SGD momentum 0.99 nesterov lr 0.01, poly per epoch, Dice+CE with deep supervision, its augmentation,
#     33% foreground oversampling) but ITERATIONS in all (50 per epoch, or the largest divisor of ITERATIONS
#     below that), 1 validation iteration per epoch (its pseudo-Dice log only), no final validation, seeded
#     python/numpy/torch, THREADS torch threads, augmentation in the main process (nnUNet_n_proc_DA=0: with
#     worker processes nnU-Net's augmentation is unseeded), checkpoint_final.pth only.
#  5. nnUNetPredictor on TEST_CASES then TRAIN_CASES: what nnUNetv2_predict -f all -chk checkpoint_final.pth
#     -device cpu -npp 0 -nps 0 -step_size STEP runs (sliding window, Gaussian weighting, resampling back to
#     the original grid), called from nnunet_anchor.py because the CLI sets torch's threads to every core and
#     names outputs after the inputs. With nnU-Net's mirroring TTA (4 passes in 2d) into
#     OUT/nnunet-sSEED/pred-tta/CASE.nii.gz and without (--disable_tta) into OUT/nnunet-sSEED/pred/CASE.nii.gz:
#     uint8 label maps on OTMultiClass's 240x240x155 grid. Wall seconds into OUT/nnunet-sSEED/time.json:
#     train_s, iterations, s_per_iteration (train_s / iterations, start-up, augmentation and the validation
#     iteration included), train_step_s (the training steps alone), predict_s, predict_tta_s (all cases).
# Resumable: a seed with time.json is skipped, an interrupted one goes on from its unfinished step (training,
# pred, pred-tta: the seconds of each done one are in OUT/nnunet-sSEED/train.s, pred.s, pred-tta.s).
# OUT holds one setting (OUT/setting.txt): another ITERATIONS/BATCH/PATCH/STEP/cases needs another OUT. nnU-Net's logs:
# OUT/logs/plan_and_preprocess.log, OUT/nnunet-sSEED/{train,pred,pred-tta}.log and its results/ folder.
# Knobs (environment): SEEDS ("1 2 3 4 5 6 7 8 9 10"), ITERATIONS (1200), BATCH (8), PATCH ("" = nnU-Net's
# plan, 256 256; e.g. "128 128"), STEP (0.5, nnU-Net's tile step at prediction), TRAIN_CASES ("pat0005
# pat0006"), TEST_CASES ("pat0003 pat0004"), THREADS (1), DATASET_ID (731), PER_EPOCH (50), NNUNET_PY,
# NNUNET_VENV (~/.cache/dlk/nnunet-venv), TORCH_INDEX, DLK_TEST_DATA.
# Cost on this 2-core machine with one thread, batch 8, measured while another job compiled (load 3 to 7,
# so these are upper bounds): a training step takes about 11.5 s at nnU-Net's 256x256 patch (1200
# iterations: about 4 h a seed), 2.1 s at PATCH="128 128" (about 45 min) and 0.5 s at PATCH="64 64";
# prediction at 128x128 (9 tiles a slice, 155 slices) about 150 s a case without TTA, about 8.5 min with.
# Seed 1, ITERATIONS=100, PATCH="128 128": whole-tumour Dice 0.47 on pat0003 (0.47 with TTA).
# At PATCH="64 64" (as bench/recipes/brats.sh runs it, 780 iterations; 2026-12-07, beside builds):
# training 380-429 s a seed, prediction of the two test cases 384-516 s, with TTA 1458-1664 s.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=$(realpath -m "${DLK_TEST_DATA:-$REPO/../shared/data}/brats")
OUT=$(realpath -m "${1:-/tmp/dlk-nnunet}")
SEEDS=${SEEDS:-1 2 3 4 5 6 7 8 9 10} ITERATIONS=${ITERATIONS:-1200} BATCH=${BATCH:-8} PATCH=${PATCH:-}
TRAIN_CASES=${TRAIN_CASES:-pat0005 pat0006} TEST_CASES=${TEST_CASES:-pat0003 pat0004}
THREADS=${THREADS:-1} STEP=${STEP:-0.5} DATASET_ID=${DATASET_ID:-731} PER_EPOCH=${PER_EPOCH:-50}
NNUNET_VENV=${NNUNET_VENV:-$HOME/.cache/dlk/nnunet-venv}
NNUNET_VERSION=2.8.1 TORCH_VERSION=2.11.0
log() { echo "nnunet.sh: $*" >&2; }
die() { log "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

for c in $TRAIN_CASES $TEST_CASES; do
  for f in Flair_subtrMeanDivStd T1c_subtrMeanDivStd OTMultiClass; do
    [ -f "$DATA/brats_2013_${c}_1/$f.nii.gz" ] || die "missing $DATA/brats_2013_${c}_1/$f.nii.gz (set DLK_TEST_DATA)"
  done
done

# 1. python
if [ -n "${NNUNET_PY:-}" ]; then
  PY=$NNUNET_PY
else
  PY=$NNUNET_VENV/bin/python
  if ! "$PY" -c "import nnunetv2, torch" 2>/dev/null; then
    command -v python3 >/dev/null || die "no python3 to make the venv $NNUNET_VENV"
    log "making the venv $NNUNET_VENV (nnunetv2==$NNUNET_VERSION, torch==$TORCH_VERSION; a few minutes)"
    t=$(now)
    python3 -m venv "$NNUNET_VENV" || die "python3 -m venv $NNUNET_VENV failed"
    if [ -n "${TORCH_INDEX:-}" ]; then
      "$NNUNET_VENV/bin/pip" install -q "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX" || die "pip install torch from $TORCH_INDEX failed"
    fi
    "$NNUNET_VENV/bin/pip" install -q "nnunetv2==$NNUNET_VERSION" "torch==$TORCH_VERSION" || die "pip install nnunetv2 failed"
    log "venv made in $(since "$t") s"
  fi
fi
if ! "$PY" -c "import nnunetv2, torch, nibabel" 2>/dev/null; then
  [ -n "${NNUNET_PY:-}" ] && die "NNUNET_PY=$PY has no nnunetv2 (with torch and nibabel): set it to one that has, or unset it"
  die "$PY has no nnunetv2 (with torch and nibabel): remove $NNUNET_VENV to make it again"
fi
log "$("$PY" -c "import importlib.metadata as m, torch; print('nnunetv2', m.version('nnunetv2'), 'torch', torch.__version__)") ($PY)"
TRAINERS=$("$PY" -c "import nnunetv2, os; print(os.path.join(nnunetv2.__path__[0], 'training', 'nnUNetTrainer'))")
cmp -s "$HERE/nnunet_trainer_dlkbench.py" "$TRAINERS/nnUNetTrainer_dlkbench.py" ||
  cp "$HERE/nnunet_trainer_dlkbench.py" "$TRAINERS/nnUNetTrainer_dlkbench.py" || die "cannot install the trainer into $TRAINERS"

# 2-3. dataset, plans, preprocessing (once per OUT)
SETTING="nnunetv2 $("$PY" -c "import importlib.metadata as m; print(m.version('nnunetv2'))") iterations $ITERATIONS per_epoch $PER_EPOCH batch $BATCH patch '$PATCH' threads $THREADS step $STEP train '$TRAIN_CASES' test '$TEST_CASES'"
mkdir -p "$OUT/logs"
if [ -f "$OUT/setting.txt" ]; then
  [ "$(cat "$OUT/setting.txt")" = "$SETTING" ] || die "$OUT holds another setting ($(cat "$OUT/setting.txt")); use another OUT"
fi
export nnUNet_raw=$OUT/nnUNet_raw nnUNet_preprocessed=$OUT/nnUNet_preprocessed nnUNet_results=$OUT/nnUNet_results
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS nnUNet_def_n_proc=1 nnUNet_compile=f
NAME=Dataset${DATASET_ID}_BraTS2013dlk
PLANS=$nnUNet_preprocessed/$NAME/nnUNetPlans.json
if ! grep -q '"2d_dlkbench"' "$PLANS" 2>/dev/null; then
  rm -rf "${nnUNet_raw:?}/$NAME" "${nnUNet_preprocessed:?}/$NAME"
  "$PY" "$HERE/nnunet_anchor.py" prepare "$DATA" "$nnUNet_raw/$NAME" "$TRAIN_CASES" "$TEST_CASES"
  log "planning and preprocessing $NAME (2d; log: $OUT/logs/plan_and_preprocess.log)"
  t=$(now)
  # nnUNet_n_proc_DA=1 here: the planner calls torch.set_num_threads(nnUNet_n_proc_DA), which refuses 0
  nnUNet_n_proc_DA=1 "$PY" -c "from nnunetv2.experiment_planning.plan_and_preprocess_entrypoints import plan_and_preprocess_entry as m; m()" \
    -d "$DATASET_ID" -c 2d -np 1 -npfp 1 --verify_dataset_integrity >"$OUT/logs/plan_and_preprocess.log" 2>&1 ||
    die "nnUNetv2_plan_and_preprocess failed: $OUT/logs/plan_and_preprocess.log"
  "$PY" "$HERE/nnunet_anchor.py" plans "$PLANS" "$BATCH" ${PATCH:+"$PATCH"}
  log "planned and preprocessed in $(since "$t") s"
fi
echo "$SETTING" >"$OUT/setting.txt"

# 4-5. per seed: train, predict without and with TTA, time.json
CASEARGS=()
for c in $TEST_CASES; do CASEARGS+=("$nnUNet_raw/$NAME/imagesTs:$c"); done
# PREDICT_TRAIN=0: the test cases only (bench/recipes/brats.sh scores those alone)
[ "${PREDICT_TRAIN:-1}" = 1 ] && for c in $TRAIN_CASES; do CASEARGS+=("$nnUNet_raw/$NAME/imagesTr:$c"); done
for seed in $SEEDS; do
  D=$OUT/nnunet-s$seed
  if [ -f "$D/time.json" ]; then log "seed $seed: done before ($D/time.json)"; continue; fi
  export nnUNet_results=$D/results
  MODEL=$nnUNet_results/$NAME/nnUNetTrainer_dlkbench__nnUNetPlans__2d_dlkbench
  # a step whose seconds are in D/STEP.s is done: an interrupted seed goes on from the step it was in
  if [ ! -f "$D/train.s" ] || [ ! -f "$MODEL/fold_all/checkpoint_final.pth" ]; then
    rm -rf "$D" && mkdir -p "$D"
    log "seed $seed: training $ITERATIONS iterations, batch $BATCH (log: $MODEL/fold_all/training_log_*.txt)"
    t=$(now)
    DLKBENCH_SEED=$seed DLKBENCH_ITERATIONS=$ITERATIONS DLKBENCH_PER_EPOCH=$PER_EPOCH DLKBENCH_THREADS=$THREADS nnUNet_n_proc_DA=0 \
      "$PY" "$HERE/nnunet_anchor.py" train "$DATASET_ID" >"$D/train.log" 2>&1 || die "seed $seed: training failed: $D/train.log"
    [ -f "$MODEL/fold_all/checkpoint_final.pth" ] || die "seed $seed: no checkpoint_final.pth in $MODEL/fold_all"
    rm -f "$MODEL/fold_all/checkpoint_best.pth"
    since "$t" >"$D/train.s"
    log "seed $seed: trained in $(cat "$D/train.s") s"
  fi
  for v in "pred 0" "pred-tta 1"; do
    set -- $v
    [ -f "$D/$1.s" ] && continue
    log "seed $seed: predicting ${#CASEARGS[@]} cases into $D/$1 (log: $D/$1.log)"
    t=$(now)
    DLKBENCH_THREADS=$THREADS DLKBENCH_STEP=$STEP "$PY" "$HERE/nnunet_anchor.py" predict "$MODEL" "$D/$1" "$2" "${CASEARGS[@]}" >"$D/$1.log" 2>&1 ||
      die "seed $seed: prediction failed: $D/$1.log"
    since "$t" >"$D/$1.s"
    log "seed $seed: predicted into $D/$1 in $(cat "$D/$1.s") s"
  done
  train_s=$(cat "$D/train.s") pred_s=$(cat "$D/pred.s") pred_tta_s=$(cat "$D/pred-tta.s")
  "$PY" - "$D/time.json" "$MODEL/fold_all/dlkbench_timing.json" "$train_s" "$pred_s" "$pred_tta_s" "${#CASEARGS[@]}" <<'PY'
import json, sys
out, timing, train_s, pred_s, tta_s, n = sys.argv[1:]
t = json.load(open(timing))
json.dump({"train_s": float(train_s), "iterations": t["iterations"], "s_per_iteration": float(train_s) / t["iterations"],
           "train_step_s": t["train_step_s"], "batch_size": t["batch_size"], "patch_size": t["patch_size"],
           "threads": t["threads"], "predict_s": float(pred_s), "predict_tta_s": float(tta_s), "predicted_cases": int(n)},
          open(out, "w"), indent=1)
PY
done
log "done: $OUT/nnunet-s*/pred{,-tta}/CASE.nii.gz"
