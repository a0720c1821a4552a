# dlk-export: the ONNX (and TorchScript) model is dlk's model. Random networks with random BN
# statistics (dlk-parity-export) against dlk's own logits, also at another batch and size; an
# ensemble against numpy's mean softmax; the teacher and student of a semi-supervised run; the
# metadata against the checkpoint; examples/onnx/segment.py (no dlk) against dlk-infer on the
# shared CT and a BraTS case; bad input leaves nothing behind.
. "$(dirname "$0")/lib.inc"
[ "${DLK_WITH_EXPORT:-1}" = 1 ] || skip "built without ONNX (DLK_WITH_ONNX): no dlk-export"
need_onnx_python "to run the exported models"
[ -x "${DLK_PARITY_EXPORT:-}" ] || skip "dlk-parity-export not built (DLK_PARITY_EXPORT)"
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$PYX $HERE/export_checks.py"
SEGMENT="$PYX $HERE/../../examples/onnx/segment.py"

# Random weights: S, M and L, fp32 within 1e-4 of the logit range, fp16 within 1e-2.
for v in S M L; do
  "$DLK_PARITY_EXPORT" $v "$T/p$v" >/dev/null || fail "dlk-parity-export $v"
  expect 0 "export DLKUNet-$v" "$BIN/dlk-export" -m "$T/p$v/model.dlkc" -o "$T/$v.onnx"
  contains "records no preprocessing" "a bare model's missing metadata is said"
  $CHECK logits "$T/$v.onnx" "$T/p$v" 1e-4 && pass "DLKUNet-$v: ONNX Runtime = dlk" || fail "DLKUNet-$v: ONNX Runtime differs"
done
"$BIN/dlk-export" -q -m "$T/pS/model.dlkc" -o "$T/S16.onnx" --precision fp16 || fail "export fp16"
$CHECK logits "$T/S16.onnx" "$T/pS" 1e-2 && pass "fp16 within its rounding" || fail "fp16 differs"
"$BIN/dlk-export" -q -m "$T/pS/model.dlkc" -o "$T/S.pt" --format torchscript || fail "export torchscript"
$CHECK torchscript "$T/S.pt" "$T/pS" 1e-4 && pass "TorchScript = dlk" || fail "TorchScript differs"
"$BIN/dlk-export" -q -m "$T/pS/model.dlkc" -o - >"$T/stdout.onnx" && cmp -s "$T/stdout.onnx" "$T/S.onnx" \
  && pass "-o - writes the same bytes" || fail "-o - differs from the file"

# An ensemble of two networks (S and M): the mean of their softmax, or its argmax.
for kind in probabilities labels; do
  "$BIN/dlk-export" -q -m "$T/pS/model.dlkc" -m "$T/pM/model.dlkc" --model-output $kind -o "$T/ens-$kind.onnx" || fail "export ensemble"
  $CHECK ensemble "$T/ens-$kind.onnx" $kind "$T/pS/model.dlkc" "$T/pM/model.dlkc" && pass "ensemble $kind" || fail "ensemble $kind"
done
expect 2 "an ensemble's logits" "$BIN/dlk-export" -m "$T/pS/model.dlkc" -m "$T/pM/model.dlkc" --model-output logits -o "$T/x.onnx"

need_itk
need_data totalseg-ct-small
# The shared CT: a model trained on it, segmented by dlk-infer and by segment.py.
prep_ct "$T/ct" "ct01 train" "ct02 test"
"$BIN/dlk-train" -q "$T/ct" -o "$T/ctrun" --base-channels 8 --size 64 --batch 4 --epochs 40 --device cpu -j 2 || fail "train on the CT"
M=$T/ctrun/final.dlkc
expect 0 "export the CT model" "$BIN/dlk-export" -m "$M" -o "$T/ct.onnx"
$CHECK metadata "$T/ct.onnx" "$M" normalization='{"method":"window","window":[-125,275]}' orientation=LPS axis=z \
  input_size='[64,64]' "dlk.version=$("$BIN/dlk-export" --version | head -1 | awk '{print $3}')" \
  && pass "the metadata says what the checkpoint says" || fail "metadata"
CT=$DATA/totalseg-ct-small/ct.nii.gz
for p in fp32 bf16; do
  "$BIN/dlk-infer" -q -m "$M" --image "$CT" --case ct -o "$T/infer-$p" --device cpu --precision $p || fail "dlk-infer $p"
done
$SEGMENT "$T/ct.onnx" "$CT" "$T/ct-onnx.nii.gz" || fail "segment.py on the CT"
$CHECK agree "$T/infer-fp32/ct.nii.gz" "$T/ct-onnx.nii.gz" 0.995 && pass "CT: segment.py = dlk-infer (fp32)" || fail "CT: fp32"
$CHECK agree "$T/infer-bf16/ct.nii.gz" "$T/ct-onnx.nii.gz" 0.995 && pass "CT: segment.py ~ dlk-infer (its default precision)" || fail "CT: default"

# BraTS: two channels, percentile normalisation, resampled to 1.5 mm, a mean-teacher run
# (a labelled case and an unlabelled one); segment.py and --network against dlk-infer.
need_data brats/brats_2013_pat0005_1
for c in "pat0005 train --label" "pat0006 train"; do
  set -- $c
  d=$DATA/brats/brats_2013_${1}_1 label=()
  [ "${3:-}" = --label ] && label=(--label "$d/OTMultiClass.nii.gz")
  "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c \
    --normalize percentile "${label[@]}" --classes background,necrosis,edema,nonenhancing,enhancing --spacing 1.5,1.5 \
    --case $1 --split-name $2 -o "$T/br" || fail "prep $1"
done
"$BIN/dlk-train" -q "$T/br" -o "$T/brrun" --base-channels 8 --size 64 --batch 8 --epochs 3 --device cpu -j 2 \
  --semi mean-teacher || fail "train on BraTS"
B=$T/brrun/final.dlkc
P3=$DATA/brats/brats_2013_pat0003_1
IMGS=("$P3/Flair_subtrMeanDivStd.nii.gz" "$P3/T1c_subtrMeanDivStd.nii.gz")
IMAGES=(--image "${IMGS[0]}" --image "${IMGS[1]}")
for net in teacher student; do
  expect 0 "export the $net" "$BIN/dlk-export" -m "$B" --network $net -o "$T/br-$net.onnx"
  $CHECK network "$T/br-$net.onnx" "$B" $net && pass "--network $net" || fail "--network $net"
  "$BIN/dlk-infer" -q -m "$B" --network $net "${IMAGES[@]}" --case p3 -o "$T/br-infer-$net" --device cpu --precision fp32 \
    || fail "dlk-infer --network $net"
  $SEGMENT "$T/br-$net.onnx" "${IMGS[@]}" "$T/br-$net.nii.gz" || fail "segment.py on BraTS"
  $CHECK agree "$T/br-infer-$net/p3.nii.gz" "$T/br-$net.nii.gz" 0.995 && pass "BraTS $net: segment.py = dlk-infer" || fail "BraTS $net"
done
$CHECK metadata "$T/br-teacher.onnx" "$B" normalization='{"method":"percentile","percentiles":[0.5,99.5]}' \
  spacing='[1.5,1.5]' channels='["flair","t1c"]' dlk.network=teacher && pass "BraTS metadata" || fail "BraTS metadata"

# Bad input: exit 1 (2 for usage), the file named, no model left behind.
head -c 5000 "$M" >"$T/truncated.dlkc"
expect 1 "a truncated checkpoint" "$BIN/dlk-export" -m "$T/truncated.dlkc" -o "$T/bad.onnx"
contains "truncated.dlkc" "the damaged checkpoint is named"
expect 1 "an ensemble of other classes" "$BIN/dlk-export" -m "$M" -m "$B" --model-output labels -o "$T/bad.onnx"
contains "$B" "the checkpoint that differs is named"
expect 1 "--network of a run without one" "$BIN/dlk-export" -m "$M" --network teacher -o "$T/bad.onnx"
contains "dlk-train --semi" "why there is no teacher"
expect 2 "an unknown --network" "$BIN/dlk-export" -m "$B" --network mentor -o "$T/bad.onnx"
expect 2 "an unknown --format" "$BIN/dlk-export" -m "$M" --format tflite -o "$T/bad.onnx"
expect 2 "no -o" "$BIN/dlk-export" -m "$M"
expect 2 "no -m" "$BIN/dlk-export" -o "$T/bad.onnx"
[ ! -e "$T/bad.onnx" ] && [ -z "$(ls -A "$T" | grep -E '^\.?bad\.onnx')" ] && pass "no file left behind" || fail "a file was left: $(ls -a "$T")"
finish
