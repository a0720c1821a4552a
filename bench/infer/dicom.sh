#!/usr/bin/env bash
# dlk-infer on DICOM series against the same scans as NIfTI, in one run on this machine: 4 copies
# of the shared CT (120 slices) as NIfTI files and as DICOM series (tests/dicom/make_series.py,
# pydicom: one file per slice, names shuffled), DLKUNet-S (random weights, 224x224), end to end to
# label files; each input read 3 times, alternating; prints slices/s and the read stage's seconds.
# usage: bash bench/infer/dicom.sh [DATA_DIR=../shared/data]   (the venv of scripts/check for pydicom)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
PY=${DLK_ONNX_PYTHON:-${DLK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dlk}/torch-$TORCH_VERSION/bin/python}
T=$(mktemp -d /tmp/dlk-bench-dicom.XXXXXX)
trap 'rm -rf "$T"' EXIT
CT=$DATA/totalseg-ct-small/ct.nii.gz
B=build/tools
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u); commit $(git rev-parse --short HEAD)"
"$B/dlk-prep" -q --image "$CT" --label "$DATA/totalseg-ct-small/seg.nii.gz" --label-map totalseg-synapse \
  --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case c --split-name test -o "$T/ds"
"$B/dlk-train" -q "$T/ds" --train-split test -o "$T/run" --variant S --epochs 0 --device cpu
mkdir -p "$T/nifti" "$T/dicom"
for i in 1 2 3 4; do
  cp "$CT" "$T/nifti/ct$i.nii.gz"
  "$PY" tests/dicom/make_series.py "$CT" "$T/dicom/ct$i" --seed $i
done
echo
echo "| input (4 x 30 slices) | run | slices/s end to end | read seconds | network seconds |"
echo "|---|---|---|---|---|"
for run in 1 2 3; do
  for kind in nifti dicom; do
    "$B/dlk-infer" -q -m "$T/run/final.dlkc" "$T/$kind" -o "$T/out-$kind" --device cpu --stats "$T/s.json"
    /usr/bin/python3 -c "
import json; s = json.load(open('$T/s.json')); t = s['stage_seconds']
print(f\"| $kind | $run | {s['slices_per_s']:.2f} | {t['read']:.3f} | {t['network']:.2f} |\")"
  done
done
