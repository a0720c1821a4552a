#!/usr/bin/env bash
# The dataset bench/gpu/run.sh trains and segments on the GPU machine (which has no ITK to read
# NIfTI): the four BraTS FLAIR volumes of ../shared/data as one channel, 620 axial slices of
# 240x240, labels 0-4 among 9 classes (the Python reference's class count). Made here, carried there.
# usage: bash bench/gpu/make-dataset.sh [OUTDIR=.gpu/bench-ds] [DATA=../shared/data]
set -euo pipefail
OUTDIR=${1:-.gpu/bench-ds}
DATA=${2:-../shared/data}
rm -rf "$OUTDIR"
for c in "$DATA"/brats/*/; do
  build/tools/dlk-prep -q --image "$c/Flair_subtrMeanDivStd.nii.gz" --label "$c/OTMultiClass.nii.gz" \
    --case "$(basename "$c")" --normalize none --label-map "0:0,1:1,2:2,3:3,4:4" \
    --classes background,necrosis,oedema,non_enhancing,enhancing,c5,c6,c7,c8 -o "$OUTDIR"
done
