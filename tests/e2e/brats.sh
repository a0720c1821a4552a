# A two-channel MRI case (FLAIR + T1c) with five tumour classes.
. "$(dirname "$0")/lib.inc"
need_itk
need_data brats/brats_2013_pat0003_1
D=$DATA/brats/brats_2013_pat0003_1
expect 0 "prepare a two-channel case" "$BIN/dlk-prep" --image "$D/Flair_subtrMeanDivStd.nii.gz" \
  --image "$D/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c --normalize none --label "$D/OTMultiClass.nii.gz" \
  --classes background,necrosis,edema,nonenhancing,enhancing --case pat0003 --split-name val -o "$T/ds"
expect 0 "check it" "$BIN/dlk-prep" --check "$T/ds" -v
contains "pat0003              val     155 slices  2x240x240 float16  5 classes" "155 slices of 2 channels"
total=$(grep -E "class +[0-9]+ " "$T/out" | awk '{s += $(NF-1)} END {print s}')
[ "$total" = $((240 * 240 * 155)) ] && pass "class counts sum to every voxel" || fail "counts sum to $total"
grep -q '"channels": \["flair", "t1c"\]' "$T/ds/dataset.json" && pass "channel names kept" || fail "channel names"
expect 2 "two images, one channel name" "$BIN/dlk-prep" --image "$D/Flair_subtrMeanDivStd.nii.gz" \
  --image "$D/T1c_subtrMeanDivStd.nii.gz" --channels flair --case x -o "$T/bad"
contains "2 images but 1 channel names" "channel count mismatch explained"
expect 1 "an image and a mask of another size as channels" "$BIN/dlk-prep" --image "$D/Flair_subtrMeanDivStd.nii.gz" \
  --image "$DATA/totalseg-ct-small/ct.nii.gz" --case x -o "$T/bad"
contains "geometry differs from the first channel" "channel geometry mismatch explained"

# Trained and segmented along two anatomical axes: one case to train on, one to segment.
need_data brats/brats_2013_pat0005_1
for axis in axial coronal; do
  for c in "pat0005 train" "pat0003 test"; do
    set -- $c
    d=$DATA/brats/brats_2013_${1}_1
    "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c \
      --normalize none --label "$d/OTMultiClass.nii.gz" --classes background,necrosis,edema,nonenhancing,enhancing \
      --axis $axis --case $1 --split-name $2 -o "$T/$axis" || fail "prep $1 along $axis"
  done
  expect 0 "train along $axis" "$BIN/dlk-train" "$T/$axis" -o "$T/run-$axis" --base-channels 8 --size 64 --batch 8 \
    --epochs 1 --device cpu
  expect 0 "segment along $axis" "$BIN/dlk-infer" -m "$T/run-$axis/final.dlkc" --image "$D/Flair_subtrMeanDivStd.nii.gz" \
    --image "$D/T1c_subtrMeanDivStd.nii.gz" --case pat0003 -o "$T/pred-$axis" --device cpu
  contains "$([ $axis = axial ] && echo 155 || echo 240) slices" "$axis: $([ $axis = axial ] && echo 155 || echo 240) slices segmented"
  expect 0 "score the $axis labels on the input's grid" "$BIN/dlk-score" -p "$T/pred-$axis" -t "$T/$axis" --split test
done
finish
