#!/usr/bin/env bash
# bench/libs/ab_cpu.sh BASE_BIN NEW_BIN WORKDIR [RUNS] (after ab.sh made WORKDIR): CPU seconds (user+sys, /usr/bin/time), interleaved; median.
A=$1 B=$2 W=$3 N=${4:-15}
D=/work/shared/data/totalseg-ct-small
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.3f ", $1+$2}'; }
declare -A T
for i in $(seq $N); do for v in A B; do bin=${!v}
  rm -rf "$W/p$v"; T[prep$v]+=$(cpu "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --case c -o "$W/p$v")
  T[score$v]+=$(cpu "$bin/dlk-score" --pred "$W/pred" --truth "$W/ds" --csv "$W/s$v.csv" --json "$W/s$v.json")
  rm -rf "$W/i$v"; T[infer$v]+=$(cpu "$bin/dlk-infer" -q -m "$W/run/final.dlkc" "$W/ds" -o "$W/i$v" --device cpu -j 1)
done; done
med() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f (%.3f-%.3f)", m, a[1], a[NR]}'; }
for k in prep infer score; do echo "$k CPU-s base $(med "${T[${k}A]}")  new $(med "${T[${k}B]}")"; done
