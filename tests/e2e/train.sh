# dlk-train on CPU with tiny settings on a real CT: the loss falls, the run directory fills,
# a resumed run ends with the same weights, SIGTERM leaves a loadable latest.dlkc.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python numpy "to compare checkpoints"
READER=$(cd "$(dirname "$0")/../../bench/reference" && pwd)
prep_ct "$T/ds" "ct01 train" "ct02 val"
TINY="--base-channels 8 --size 64 --batch 4 --augment transunet --lr 0.003 --deterministic -j 2 --device cpu"

expect 0 "train 4 epochs" "$BIN/dlk-train" "$T/ds" -o "$T/A" --epochs 4 $TINY
for f in config.json log.jsonl latest.dlkc best.dlkc final.dlkc; do
  [ -s "$T/A/$f" ] && pass "run directory has $f" || fail "run directory lacks $f"
done
[ "$(wc -l <"$T/A/log.jsonl")" = 4 ] && pass "one log line per epoch" || fail "log.jsonl: $(wc -l <"$T/A/log.jsonl") lines"
"$PY" - "$T/A/log.jsonl" <<'PYEOF' && pass "the loss falls, the log has every field" || fail "loss or log fields"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
keys = {"epoch", "iterations", "loss", "ce", "dice_loss", "alpha", "beta", "lr", "val_dice", "val_mean_dice",
        "img_per_s", "peak_gpu_mem_gib", "wall_s"}
assert all(keys <= set(l) for l in lines), [keys - set(l) for l in lines]
assert lines[-1]["loss"] < lines[0]["loss"] * 0.95, [l["loss"] for l in lines]
assert lines[-1]["iterations"] == 4 * 8, lines[-1]["iterations"]
PYEOF

# Learning-rate phases (--lr-phases): 0.01 halved each epoch, then 0.001 from epoch 2; stopped
# in epoch 1 and resumed, the run keeps them (config.json).
expect 0 "train with learning-rate phases" "$BIN/dlk-train" "$T/ds" -o "$T/P" --epochs 3 --max-steps 10 $TINY \
  --schedule step --step-epochs 1 --gamma 0.5 --lr-phases 2:0.01,*:0.001
expect 0 "resume it" "$BIN/dlk-train" --resume "$T/P" --max-steps 0 --device cpu -j 2
"$PY" -c "import json, sys; lr = [json.loads(l)['lr'] for l in open(sys.argv[1])]; assert lr == [0.01, 0.005, 0.001], lr" \
  "$T/P/log.jsonl" && pass "each epoch's learning rate: 0.01, 0.005, then the second phase's 0.001" || fail "lr by phase: $(cat "$T/P/log.jsonl")"
expect 2 "--lr-phases with a poly schedule" "$BIN/dlk-train" "$T/ds" -o "$T/P2" --epochs 1 $TINY --schedule poly --lr-phases 2:0.01,*:0.001
contains "--lr-phases" "the message names the option"

# Cross-validation: dlk-prep --folds deals 3 train cases into 3 folds (a later case joins them);
# dlk-train --fold 1 trains on two and validates on the third.
prep_ct "$T/cv" "ct01 train" "ct02 train"
expect 0 "prep with --folds 3" "$BIN/dlk-prep" -q --image "$DATA/totalseg-ct-small/ct.nii.gz" --label "$DATA/totalseg-ct-small/seg.nii.gz" \
  --label-map totalseg-synapse --classes $SYNAPSE_CLASSES --case ct03 -o "$T/cv" --folds 3
prep_ct "$T/cv" "ct04 test"
"$PY" - "$T/cv/dataset.json" <<'PYEOF' && pass "dataset.json: folds 0, 1, 2 for the train cases, none for the test case" || fail "folds in dataset.json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["folds"] == 3 and d["fold_seed"] == 1234, d
f = {c["id"]: c.get("fold") for c in d["cases"]}
assert sorted(f[c] for c in ("ct01", "ct02", "ct03")) == [0, 1, 2] and f["ct04"] is None, f
PYEOF
expect 0 "train fold 1" "$BIN/dlk-train" "$T/cv" -o "$T/F" --epochs 1 --max-steps 2 $TINY --fold 1
contains "fold 1 of 3: training on 2 cases, validating on 1" "the log says which cases"
grep -q '"fold": 1' "$T/F/config.json" && pass "config.json records the fold" || fail "config.json: no fold"
expect 2 "--fold past the folds" "$BIN/dlk-train" "$T/cv" -o "$T/F2" --epochs 1 $TINY --fold 3
contains "--fold 3" "the message names the option"
expect 2 "--folds with a stream" "$BIN/dlk-prep" --image "$DATA/totalseg-ct-small/ct.nii.gz" -o - --folds 3
# The run records its cases; folds dealt again under it (another --fold-seed: fold 1 then holds
# another case) make --resume refuse, unless told to go on (issue 25).
grep -q '"val": \[' "$T/F/config.json" && pass "config.json records the run's cases" || fail "config.json: no cases"
fold1() { "$PY" -c "import json, sys; print(' '.join(sorted(c['id'] for c in json.load(open(sys.argv[1]))['cases'] if c.get('fold') == 1)))" "$T/cv/dataset.json"; }
before=$(fold1)
for seed in $(seq 1 30); do
  "$BIN/dlk-prep" -q --image "$DATA/totalseg-ct-small/ct.nii.gz" --label "$DATA/totalseg-ct-small/seg.nii.gz" --case ct04 \
    --split-name test --label-map totalseg-synapse --classes $SYNAPSE_CLASSES -o "$T/cv" --force --folds 3 --fold-seed $seed ||
    fail "deal the folds with seed $seed"
  [ "$(fold1)" != "$before" ] && break
done
[ "$(fold1)" != "$before" ] && pass "folds dealt again: fold 1 was $before, is $(fold1)" || fail "no seed moved fold 1"
expect 1 "resume after the folds were dealt again" "$BIN/dlk-train" --resume "$T/F" --max-steps 0 --device cpu -j 2
contains "other cases than it started with" "the message says why"
contains "val: lost $before" "and names the validation case it lost"
contains "config.json" "and the run's config.json"
expect 0 "resume with --accept-changed-cases" "$BIN/dlk-train" --resume "$T/F" --max-steps 0 --device cpu -j 2 --accept-changed-cases
contains "--accept-changed-cases: going on with other cases" "the change is logged"
"$PY" -c "import json, sys; v = json.load(open(sys.argv[1]))['cases']['val']; assert v == sys.argv[2].split(), v" \
  "$T/F/config.json" "$(fold1)" && pass "config.json records the new validation case" || fail "config.json cases: $(grep -A3 '"val"' "$T/F/config.json")"
expect 2 "--accept-changed-cases without --resume" "$BIN/dlk-train" "$T/cv" -o "$T/F3" --epochs 1 $TINY --accept-changed-cases

# Stop mid-epoch (iteration 11 of 32), resume: the same final weights, bit for bit.
expect 0 "train, stopping after 11 steps" "$BIN/dlk-train" "$T/ds" -o "$T/B" --epochs 4 --max-steps 11 $TINY
# As if killed between epoch 1's log line and its checkpoint: the resumed run writes it again.
echo '{"epoch":1,"iterations":16,"loss":99}' >>"$T/B/log.jsonl"
expect 0 "resume to the end" "$BIN/dlk-train" --resume "$T/B" --max-steps 0 --device cpu -j 2
contains "resuming" "the resume says where it continues"
contains "dropped 1 line(s)" "the resume drops the log line of an epoch the checkpoint lacks"
"$PY" -c "import json, sys; e = [json.loads(l)['epoch'] for l in open(sys.argv[1])]; assert e == [0, 1, 2, 3], e" \
  "$T/B/log.jsonl" && pass "the resumed run's log.jsonl has each epoch once" || fail "log.jsonl epochs after resume"
"$PY" - "$T/A/log.jsonl" "$T/B/log.jsonl" <<'PYEOF' && pass "resumed run logs whole epochs, as the uninterrupted run" || fail "log.jsonl differs after resume"
import json, sys
a, b = ({json.loads(l)["epoch"]: json.loads(l) for l in open(f)} for f in sys.argv[1:3])  # the last line per epoch
assert a.keys() == b.keys(), (a.keys(), b.keys())
for e in a:  # epoch 1 was cut at iteration 11: its loss covers all 8 steps nonetheless
    for k in ("iterations", "loss", "ce", "dice_loss", "lr", "val_mean_dice"):
        assert a[e][k] == b[e][k], (e, k, a[e][k], b[e][k])
PYEOF
"$PY" - "$T/A/final.dlkc" "$T/B/final.dlkc" "$READER" <<'PYEOF' && pass "resumed run ends with identical weights" || fail "weights differ after resume"
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np, dlk_checkpoint
_, a = dlk_checkpoint.read(sys.argv[1])
_, b = dlk_checkpoint.read(sys.argv[2])
assert a.keys() == b.keys()
bad = [k for k in a if not np.array_equal(a[k], b[k])]
assert not bad, bad[:5]
PYEOF

# nnU-Net's recipe (--config nnunet-2d: deep supervision, --augment nnunet, foreground
# oversampling, SGD with Nesterov momentum): stopped mid-epoch and resumed, the same heads, weights
# and per-level losses, bit for bit (issue 30).
NNB="--config nnunet-2d --variant M --base-channels 8 --batch 4 --deterministic -j 2 --device cpu"
NN="$NNB --size 64"
expect 0 "nnunet-2d: train 2 epochs" "$BIN/dlk-train" "$T/ds" -o "$T/N" --epochs 2 $NN
contains "training slices hold a foreground class" "oversampling says how many slices hold foreground"
expect 0 "nnunet-2d: the same, stopped after 11 steps" "$BIN/dlk-train" "$T/ds" -o "$T/N2" --epochs 2 --max-steps 11 $NN
expect 0 "nnunet-2d: resume to the end" "$BIN/dlk-train" --resume "$T/N2" --max-steps 0 --device cpu -j 2
"$PY" - "$T/N/final.dlkc" "$T/N2/final.dlkc" "$T/N/log.jsonl" "$T/N2/log.jsonl" "$READER" <<'PYEOF' && pass "deep supervision: a resumed run ends with identical weights, heads and level losses" || fail "deep supervision: resume differs"
import json, sys
sys.path.insert(0, sys.argv[5])
import numpy as np, dlk_checkpoint
_, a = dlk_checkpoint.read(sys.argv[1])
_, b = dlk_checkpoint.read(sys.argv[2])
heads = sorted(k for k in a if k.startswith("deep_supervision/"))
# M has decoder levels 0, 1, 2: heads on levels 1 (16 channels) and 2 (32), one output per class.
assert heads == ["deep_supervision/head1.bias", "deep_supervision/head1.weight",
                 "deep_supervision/head2.bias", "deep_supervision/head2.weight"], heads
assert a["deep_supervision/head2.weight"].shape[:2] == (a["head.weight"].shape[0], 32), a["deep_supervision/head2.weight"].shape
bad = [k for k in a if k != "optim/state" and not np.array_equal(a[k], b[k])]
assert a.keys() == b.keys() and not bad, bad[:5]
la, lb = ([json.loads(l) for l in open(f)] for f in sys.argv[3:5])
w = la[-1]["level_weights"]
assert np.allclose(w, [4 / 7, 2 / 7, 1 / 7]), w  # 1, 1/2, 1/4 normalised
for x, y in zip(la, lb):
    assert len(x["level_losses"]) == 3 and x["level_losses"] == y["level_losses"] and x["loss"] == y["loss"], (x, y)
    # the loss optimised is the levels' weighted sum; level 0's is alpha Dice + beta CE of the output
    # (summed in float32 per step, hence the tolerance)
    assert abs(x["loss"] - sum(wi * li for wi, li in zip(w, x["level_losses"]))) < 1e-6, x
    assert abs(x["level_losses"][0] - (0.5 * x["dice_loss"] + 0.5 * x["ce"])) < 1e-6, x
PYEOF
expect 0 "dlk-infer segments with a deep-supervision run's checkpoint" "$BIN/dlk-infer" -q -m "$T/N/final.dlkc" "$T/ds" --split all -o "$T/N/pred" --device cpu
expect 0 "--summary with deep supervision" "$BIN/dlk-train" --summary --variant M --base-channels 8 --num-classes 5 --size 64 --deep-supervision
# Heads on levels 1 (16 channels) and 2 (32), 5 classes: 16 x 5 + 5 + 32 x 5 + 5 = 250.
contains "deep supervision (training only, not in exported models): 2 heads, 250 parameters" "--summary counts the heads apart"
expect 2 "--supervised-levels 4 on DLKUNet-M" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $NN --supervised-levels 4
contains "--supervised-levels: 4, but DLKUNet-M has 3 decoder levels" "the refusal names the option and the model's levels"
expect 2 "--deep-supervision at a size too small for its levels" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $NNB --size 12
contains "--deep-supervision: at --size 12x12 level 2 is 3x3 pixels" "the refusal names the option and the size"
expect 2 "--supervised-levels without --deep-supervision" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $TINY --supervised-levels 2
contains "--supervised-levels: goes with --deep-supervision" "the refusal names both options"
expect 2 "--augment nnunet-elastic on slices too small for its field" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $NNB --augment nnunet-elastic --size 32
contains "--augment nnunet-elastic: --size 32x32 is below the 40x40" "the refusal names the option and the size"
expect 2 "--nesterov with Adam" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $TINY --nesterov
contains "--nesterov: with --optimizer sgd" "the refusal names the option"
expect 2 "--oversample-foreground 1" "$BIN/dlk-train" "$T/ds" -o "$T/N3" --epochs 1 $TINY --oversample-foreground 1
contains "--oversample-foreground" "the refusal names the option"

# -j changes a CPU run's numbers: config.json records it and --resume restores it. Started with
# -j 1 and resumed as documented (no -j, which alone means all cores), the run ends with the
# weights of an uninterrupted -j 1 run; another -j is refused for a --deterministic run.
J1="--base-channels 8 --size 64 --batch 4 --augment transunet --lr 0.003 --deterministic -j 1 --device cpu"
expect 0 "train 2 epochs with -j 1" "$BIN/dlk-train" "$T/ds" -o "$T/J" --epochs 2 $J1
expect 0 "the same, stopped after 5 steps" "$BIN/dlk-train" "$T/ds" -o "$T/K" --epochs 2 --max-steps 5 $J1
grep -q '"threads": 1' "$T/K/config.json" && pass "config.json records -j 1" || fail "config.json: $(grep threads "$T/K/config.json")"
expect 2 "resume it with -j 2" "$BIN/dlk-train" --resume "$T/K" --max-steps 0 --device cpu -j 2
contains "used -j 1" "the refusal names the run's thread count"
expect 0 "resume it without -j" "$BIN/dlk-train" --resume "$T/K" --max-steps 0 --device cpu
"$PY" - "$T/J/final.dlkc" "$T/K/final.dlkc" "$READER" <<'PYEOF' && pass "resumed without -j: the weights of the uninterrupted -j 1 run" || fail "weights differ after a resume without -j"
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np, dlk_checkpoint
_, a = dlk_checkpoint.read(sys.argv[1])
_, b = dlk_checkpoint.read(sys.argv[2])
bad = [k for k in a if not np.array_equal(a[k], b[k])]
assert a.keys() == b.keys() and not bad, bad[:5]
PYEOF
# (config.json writes the loop, the step of runs before the option, by leaving the key out.)
case "$(grep -o '"optimizer_step": "[a-z]*"' "$T/K/config.json")" in
  "" | *loop*) pass "on a CPU --optimizer-step auto is the loop" ;;
  *) fail "config.json: $(grep optimizer_step "$T/K/config.json")" ;;
esac

# --optimizer-step foreach (Adam over all tensors at once), stopped and resumed: the weights of the
# uninterrupted run (its state is torch::optim's, in the checkpoint), and the loop's but for rounding.
expect 0 "--optimizer-step foreach: train 2 epochs" "$BIN/dlk-train" "$T/ds" -o "$T/O" --epochs 2 $J1 --optimizer-step foreach
expect 0 "the same, stopped after 5 steps" "$BIN/dlk-train" "$T/ds" -o "$T/O2" --epochs 2 --max-steps 5 $J1 --optimizer-step foreach
expect 0 "resume it" "$BIN/dlk-train" --resume "$T/O2" --max-steps 0 --device cpu
grep -q '"optimizer_step": "foreach"' "$T/O2/config.json" && pass "config.json records --optimizer-step foreach" \
  || fail "config.json: $(grep optimizer_step "$T/O2/config.json")"
"$PY" - "$T/O/final.dlkc" "$T/O2/final.dlkc" "$T/J/final.dlkc" "$READER" <<'PYEOF' && pass "foreach: resumed, the uninterrupted run's weights; the loop's within rounding" || fail "foreach weights"
import sys
sys.path.insert(0, sys.argv[4])
import numpy as np, dlk_checkpoint
(_, a), (_, b), (_, loop) = (dlk_checkpoint.read(f) for f in sys.argv[1:4])
bad = [k for k in a if k != "optim/state" and not np.array_equal(a[k], b[k])]
assert a.keys() == b.keys() and not bad, bad[:5]
w = [k for k in a if k.endswith("weight") and a[k].dtype == np.float32]
worst = max(float(np.abs(a[k] - loop[k]).max()) for k in w)
print(f"    largest difference from the loop's weights after 2 epochs: {worst:.2e}")
assert worst < 1e-3, worst
PYEOF
expect 2 "--optimizer-step foreach with SGD" "$BIN/dlk-train" "$T/ds" -o "$T/O3" --epochs 1 $TINY --optimizer sgd --optimizer-step foreach
contains "--optimizer-step foreach: for --optimizer adam or adamw" "the refusal names the option"

# config.json holds absolute paths: a run started with relative ones resumes from any directory.
here=$PWD
cd "$T"
expect 0 "train with relative paths" "$BIN/dlk-train" ds -o R --epochs 1 --max-steps 2 $TINY
grep -qF "\"dataset\": \"$(pwd -P)/ds\"" R/config.json && pass "config.json has the dataset's absolute path" || fail "config.json: $(grep dataset R/config.json)"
cd /
expect 0 "resume from another directory" "$BIN/dlk-train" --resume "$T/R" --max-steps 0 --device cpu -j 2
cd "$here"

# SIGTERM: finish the step, write latest.dlkc, exit 75; the run then resumes.
"$BIN/dlk-train" "$T/ds" -o "$T/C" --epochs 500 $TINY >"$T/c.log" 2>&1 &
pid=$!
for _ in $(seq 6000); do [ -s "$T/C/log.jsonl" ] && break; sleep 0.1; done # the first epoch, however slow (10 min: hangs only)
kill -TERM $pid
wait $pid
rc=$?
[ $rc = 75 ] && pass "SIGTERM exits 75" || { fail "SIGTERM exit $rc"; cat "$T/c.log"; }
grep -q "continue with --resume" "$T/c.log" && pass "SIGTERM says how to continue" || fail "no resume hint"
"$PY" -c "import sys; sys.path.insert(0, '$READER'); import dlk_checkpoint; m, t = dlk_checkpoint.read('$T/C/latest.dlkc'); assert 'optim/state' in t" \
  && pass "latest.dlkc after SIGTERM is complete" || fail "latest.dlkc unreadable"
ls "$T/C" | grep -q tmp && fail "temporary files left" || pass "no temporary files left"
epoch=$("$PY" -c "import sys, json; sys.path.insert(0, '$READER'); import dlk_checkpoint; print(dlk_checkpoint.read('$T/C/latest.dlkc')[0]['state']['epoch'])")
expect 0 "resume the signalled run for one more epoch" "$BIN/dlk-train" --resume "$T/C" --epochs $((epoch + 1)) --device cpu -j 2
[ -s "$T/C/final.dlkc" ] && pass "the resumed run finishes" || fail "no final.dlkc"

# Other entry points and refusals.
expect 0 "--epochs 0 writes the initial model" "$BIN/dlk-train" "$T/ds" -o "$T/E" --epochs 0 --base-channels 8
[ -s "$T/E/final.dlkc" ] && pass "final.dlkc of the initial model" || fail "no final.dlkc for --epochs 0"
expect 2 "a run directory that holds a run" "$BIN/dlk-train" "$T/ds" -o "$T/A" --epochs 1 $TINY
contains "holds a run already" "refusal explained"
expect 2 "bad loss strategy" "$BIN/dlk-train" "$T/ds" -o "$T/F" --loss funny $TINY
expect 2 "no dataset" "$BIN/dlk-train" -o "$T/F"
expect 1 "an exploding learning rate" "$BIN/dlk-train" "$T/ds" -o "$T/G" --epochs 3 --base-channels 8 --size 64 --batch 4 \
  --device cpu --optimizer sgd --lr 1e20
contains "the loss became" "a non-finite loss stops the run"
finish
