# Raw dataset layouts (Synapse, ACDC, nnU-Net) and presets, built from links to a real CT.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
CT=$DATA/totalseg-ct-small/ct.nii.gz
SEG=$DATA/totalseg-ct-small/seg.nii.gz

# Synapse RawData: img/imgNNNN + label/labelNNNN, ids caseNNNN.
mkdir -p "$T/syn/Training/img" "$T/syn/Training/label"
for n in 0001 0002 0003; do
  ln -s "$CT" "$T/syn/Training/img/img$n.nii.gz"
  ln -s "$SEG" "$T/syn/Training/label/label$n.nii.gz"
done
expect 1 "synapse preset on labels that are not BTCV's" "$BIN/dlk-prep" --raw "$T/syn" --preset synapse -o "$T/o1"
contains "which the dataset does not have" "the pinned split list wants its cases"
printf 'case0001 train\ncase0002 test\n' >"$T/split.txt"
expect 1 "synapse preset with a short split list" "$BIN/dlk-prep" --raw "$T/syn" --preset synapse --split-list "$T/split.txt" -o "$T/o1"
contains "not in the label map" "TotalSegmentator ids are not BTCV ids"
expect 0 "synapse preset with another label map" "$BIN/dlk-prep" --raw "$T/syn" --preset synapse \
  --split "$T/split.txt" --label-map totalseg-synapse -o "$T/o1"
contains "1 case(s) not in the split list, skipped: case0003" "unlisted case skipped with a warning"
grep -q '"window": \[-125, 275\]' "$T/o1/dataset.json" && pass "preset window" || fail "preset window missing"
grep -q '"kidney_left"' "$T/o1/dataset.json" && pass "preset classes" || fail "preset classes missing"
grep -q '"name": "synapse"' "$T/o1/dataset.json" && pass "preset name" || fail "preset name missing"
expect 0 "check the synapse dataset" "$BIN/dlk-prep" --check "$T/o1"
contains "case0002             test" "split from the list"

# ACDC: patientNNN/Info.cfg + frames.
mkdir -p "$T/acdc/patient001" "$T/acdc/patient002"
for p in patient001 patient002; do
  printf 'ED: 1\nES: 12\nGroup: DCM\n' >"$T/acdc/$p/Info.cfg"
  for f in 01 12; do
    ln -s "$CT" "$T/acdc/$p/${p}_frame$f.nii.gz"
    ln -s "$SEG" "$T/acdc/$p/${p}_frame${f}_gt.nii.gz"
  done
done
printf 'patient001 train\npatient002 val\n' >"$T/acdc-split.txt"
expect 0 "acdc preset" "$BIN/dlk-prep" --raw "$T/acdc" --preset acdc --split-list "$T/acdc-split.txt" \
  --label-map 52:1,4:2,3:3,*:0 -o "$T/o2"
expect 0 "check the acdc dataset" "$BIN/dlk-prep" --check "$T/o2"
contains "patient001_ED" "ED frame is a case"
contains "patient002_ES        val" "both frames of a patient share its split"
grep -q '"method": "minmax"' "$T/o2/dataset.json" && pass "acdc normalization" || fail "acdc normalization"
rm "$T/acdc/patient002/Info.cfg"
expect 1 "acdc patient without Info.cfg" "$BIN/dlk-prep" --raw "$T/acdc" --preset acdc -o "$T/o3"
contains "Info.cfg" "missing Info.cfg named"

# nnU-Net raw: dataset.json, imagesTr/CASE_0000, labelsTr/CASE, imagesTs.
mkdir -p "$T/nn/imagesTr" "$T/nn/labelsTr" "$T/nn/imagesTs"
cat >"$T/nn/dataset.json" <<'JSON'
{"channel_names": {"0": "CT"}, "labels": {"background": 0, "aorta": 1, "liver": 2}, "numTraining": 2, "file_ending": ".nii.gz"}
JSON
for c in abd_001 abd_002; do ln -s "$CT" "$T/nn/imagesTr/${c}_0000.nii.gz"; ln -s "$SEG" "$T/nn/labelsTr/$c.nii.gz"; done
ln -s "$CT" "$T/nn/imagesTs/abd_101_0000.nii.gz"
expect 0 "nnunet preset" "$BIN/dlk-prep" --raw "$T/nn" --preset nnunet --label-map 52:1,5:2,*:0 -o "$T/o4"
expect 0 "check the nnunet dataset" "$BIN/dlk-prep" --check "$T/o4" -v
contains "abd_101              test" "imagesTs is the test split"
contains "liver" "class names from dataset.json"
grep -q '"channels": \["CT"\]' "$T/o4/dataset.json" && pass "channel names from dataset.json" || fail "channel names"
rm "$T/nn/labelsTr/abd_002.nii.gz"
expect 1 "nnunet training case without label" "$BIN/dlk-prep" --raw "$T/nn" --preset nnunet -o "$T/o5"
contains "missing label of a training case" "missing label named"
finish
