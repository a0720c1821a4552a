#!/usr/bin/env bash
# bench/libs/ab.sh: A/B timing of two dlk builds, interleaved runs, median wall seconds.
# usage: bench/libs/ab.sh BASE_BIN NEW_BIN WORKDIR [RUNS]
set -euo pipefail
A=$1 B=$2 W=$3 N=${4:-15}
D=/work/shared/data/totalseg-ct-small
rm -rf "$W"; mkdir -p "$W"
# a tiny model and a dataset, made once with the base build (the same inputs for both)
for c in "ct01 train" "ct02 test" "ct03 test"; do set -- $c
  "$A/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case $1 --split-name $2 -o "$W/ds"; done
"$A/dlk-train" -q "$W/ds" -o "$W/run" --base-channels 8 --size 64 --batch 4 --epochs 1 --device cpu -j 2 --seed 7 >/dev/null
"$A/dlk-infer" -q -m "$W/run/final.dlkc" "$W/ds" -o "$W/pred" --device cpu
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A T
for i in $(seq $N); do
  for v in A B; do bin=${!v}
    rm -rf "$W/p$v"; T[prep$v]+="$(t "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --case c -o "$W/p$v") "
    rm -rf "$W/i$v"; T[infer$v]+="$(t "$bin/dlk-infer" -q -m "$W/run/final.dlkc" "$W/ds" -o "$W/i$v" --device cpu) "
    T[score$v]+="$(t "$bin/dlk-score" --pred "$W/pred" --truth "$W/ds" --csv "$W/s$v.csv" --json "$W/s$v.json") "
  done
done
med() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f (%.4f-%.4f)", m, a[1], a[NR]}'; }
for k in prep infer score; do echo "$k base $(med "${T[${k}A]}")  new $(med "${T[${k}B]}")"; done
