#!/usr/bin/env bash
# Benchmark: dlk-prep vs TransUNet-style Python preparation on the same real volumes.
# Usage: bash bench/prep/run.sh [DATA_DIR]   (DATA_DIR defaults to ../shared/data beside the repo;
#        DLK_PREP overrides build/tools/dlk-prep, RUNS the number of timed runs [3]).
# Prints the median wall time (end to end, process start to exit, NIfTI reading included), CPU time
# and output bytes of each tool/variant, then one table. See bench/prep/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=${1:-$ROOT/../shared/data}
PREP=${DLK_PREP:-$ROOT/build/tools/dlk-prep}
TIMEFORMAT='%R %U %S'
PY=/usr/bin/python3   # Debian's: numpy, nibabel and h5py (the pyenv python3 on PATH lacks them)
PYPREP=$ROOT/bench/prep/transunet_prep.py
RUNS=${RUNS:-3}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
die() { echo "bench/prep/run.sh: $*" >&2; exit 1; }
[[ -d $DATA/brats && -d $DATA/totalseg-ct-small ]] ||
  die "no data in '$DATA' (expected brats/ and totalseg-ct-small/); pass DATA_DIR"
DATA=$(cd "$DATA" && pwd)
[[ -x $PREP ]] || die "no dlk-prep at '$PREP' (build with 'ninja -C build' or set DLK_PREP)"
$PY -c 'import numpy, nibabel, h5py' 2>/dev/null || die "$PY lacks numpy, nibabel or h5py"

WORK=$(mktemp -d /tmp/dlk-bench-prep.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# dlk-prep reads one nnU-Net-style raw dataset per data set: symlinks to the real files.
# BraTS: pat0005, pat0006 train (imagesTr), pat0003, pat0004 test (imagesTs).
raw=$WORK/raw/brats
mkdir -p "$raw"/{imagesTr,labelsTr,imagesTs,labelsTs}
for pat in 0005:Tr 0006:Tr 0003:Ts 0004:Ts; do
  id=${pat%:*} s=${pat#*:} d=$DATA/brats/brats_2013_pat${id}_1
  ln -s "$d/Flair_subtrMeanDivStd.nii.gz" "$raw/images$s/pat${id}_0000.nii.gz"
  ln -s "$d/T1c_subtrMeanDivStd.nii.gz" "$raw/images$s/pat${id}_0001.nii.gz"
  ln -s "$d/OTMultiClass.nii.gz" "$raw/labels$s/pat${id}.nii.gz"
done
echo '{"channel_names": {"0": "flair", "1": "t1c"}, "file_ending": ".nii.gz",
 "labels": {"background": 0, "necrosis": 1, "edema": 2, "nonenhancing": 3, "enhancing": 4}}' \
  > "$raw/dataset.json"
# The small CT, once as a training case and once as a test case.
raw=$WORK/raw/totalseg
mkdir -p "$raw"/{imagesTr,labelsTr,imagesTs,labelsTs}
ln -s "$DATA/totalseg-ct-small/ct.nii.gz" "$raw/imagesTr/ct_train_0000.nii.gz"
ln -s "$DATA/totalseg-ct-small/seg.nii.gz" "$raw/labelsTr/ct_train.nii.gz"
ln -s "$DATA/totalseg-ct-small/ct.nii.gz" "$raw/imagesTs/ct_test_0000.nii.gz"
ln -s "$DATA/totalseg-ct-small/seg.nii.gz" "$raw/labelsTs/ct_test.nii.gz"
echo '{"channel_names": {"0": "CT"}, "file_ending": ".nii.gz", "labels": {"background": 0,
 "aorta": 1, "gallbladder": 2, "kidney_left": 3, "kidney_right": 4, "liver": 5, "pancreas": 6,
 "spleen": 7, "stomach": 8}}' > "$raw/dataset.json"

# The commands; OUT is the fresh output directory of each run.
opts_brats=(--normalize none)
opts_totalseg=(--normalize window --window -125,275 --label-map totalseg-synapse)
variant() {  # VARIANT DATASET OUT: run (or with SHOW=1 print) one preparation
  local ds=$2 out=$3 opts
  [[ $ds == brats ]] && opts=("${opts_brats[@]}") || opts=("${opts_totalseg[@]}")
  local c
  case $1 in
    python-npz-h5) c=("$PY" "$PYPREP" "$ds" "$DATA" "$out") ;;
    python-npz-h5-compressed) c=("$PY" "$PYPREP" "$ds" "$DATA" "$out" --compressed) ;;
    dlk-prep-j0) c=("$PREP" --raw "$WORK/raw/$ds" --layout nnunet "${opts[@]}" -j 0 -q -o "$out") ;;
    dlk-prep-j1) c=("$PREP" --raw "$WORK/raw/$ds" --layout nnunet "${opts[@]}" -j 1 -q -o "$out") ;;
  esac
  if [[ ${SHOW:-} ]]; then echo "${c[*]}"; else "${c[@]}"; fi
}

cat "$DATA"/brats/*/*.nii.gz "$DATA"/totalseg-ct-small/*.nii.gz > /dev/null  # same warm cache for all

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -h | awk '/^Mem:/{print $2}') memory"
echo "date:    $(date)"
echo "dlk-prep: $PREP ($("$PREP" --version | head -1)); python: $PY ($($PY -c \
  'import numpy, nibabel, h5py; print("numpy", numpy.__version__, "nibabel", nibabel.__version__, "h5py", h5py.__version__)'))"
busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }  # jiffies, all CPUs
busy0=$(busy) start=$EPOCHREALTIME
variants=(python-npz-h5 python-npz-h5-compressed dlk-prep-j0 dlk-prep-j1)
for v in "${variants[@]}"; do for ds in brats totalseg; do echo "$v on $ds: $(SHOW=1 variant $v $ds OUT)"; done; done
# Round-robin over the variants, so that a slow drift of the machine's speed hits all of them alike.
declare -A times cpus bytes
results=$WORK/results.tsv
for ds in brats totalseg; do
  for ((r = 1; r <= RUNS; r++)); do
    for v in "${variants[@]}"; do
      out=$WORK/out/$v-$ds-$r
      sync  # no writeback of the previous run's output during this one
      { time variant $v $ds "$out" 2>&3; } 3>&2 2> "$WORK/time"  # bash's: wall, user, system s
      read -r t u sy < "$WORK/time"
      cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.3f", u + s }')
      b=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
      printf '%-8s run %d  %-24s %6s s wall %6s s CPU %10d bytes %4d files\n' \
        $ds $r $v "$t" "$cpu" "$b" "$(find "$out" -type f | wc -l)"
      [[ -z ${bytes[$v$ds]:-} || ${bytes[$v$ds]} == "$b" ]] || die "$v wrote $b bytes, before ${bytes[$v$ds]}"
      times[$v$ds]+="$t " cpus[$v$ds]+="$cpu " bytes[$v$ds]=$b
      [[ $v == dlk-prep* && $r == 1 ]] && { "$PREP" --check "$out" > /dev/null || die "$out fails --check"; }
      rm -rf "$out"
    done
  done
  for v in "${variants[@]}"; do
    range=$(printf '%s\n' ${times[$v$ds]} | sort -g | sed -n '1p;$p' | paste -sd-)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' $v $ds "$(median ${times[$v$ds]})" "${bytes[$v$ds]}" "$range" \
      "$(median ${cpus[$v$ds]})" >> "$results"
  done
done

# CPU seconds that other processes used meanwhile: a busy machine makes the numbers unreliable.
times > "$WORK/times"  # in this shell: a $(...) subshell would see none of its children
mine=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += 60 * t[1] + t[2] } print s }' "$WORK/times")
other=$(awk -v b0="$busy0" -v b1="$(busy)" -v hz="$(getconf CLK_TCK)" -v m="$mine" \
  'BEGIN { o = (b1 - b0) / hz - m; printf "%.1f", o < 0 ? 0 : o }')
wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
echo
echo "Other processes used $other CPU-s of the $((wall * $(nproc))) CPU-s available during the ${wall} s of runs."
echo "Median of $RUNS runs; ratios are against python-npz-h5 on the same data set."
echo "Goal: dlk-prep >= 3x faster and <= 1/3 of the bytes of python-npz-h5."
awk -F'\t' '
  $1 == "python-npz-h5" { pt[$2] = $3; pb[$2] = $4 }
  { v[NR] = $1; d[NR] = $2; t[NR] = $3; b[NR] = $4; rg[NR] = $5; c[NR] = $6 }
  END {
    fmt = "| %-24s | %-8s | %7s | %-11s | %5s | %10s | %8s | %11s | %-22s |\n"
    printf fmt, "tool/variant", "data set", "seconds", "runs (s)", "CPU s", "output MiB", "speed-up", "bytes ratio", "goal (3x, <=1/3 bytes)"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------------", "----------", "---------",
      "-------------", "-------", "------------", "----------", "-------------", "------------------------"
    for (i = 1; i <= NR; i++) {
      s = pt[d[i]] / t[i]; r = b[i] / pb[d[i]]
      goal = "-"
      if (v[i] ~ /^dlk-prep/)
        goal = (s >= 3 && r <= 1/3) ? "holds" : \
               sprintf("MISSED (%s)", s < 3 && r > 1/3 ? "time, bytes" : s < 3 ? "time" : "bytes")
      printf fmt, v[i], d[i], sprintf("%.3f", t[i]), rg[i], sprintf("%.2f", c[i]), sprintf("%.2f", b[i] / 1048576),
        sprintf("%.2fx", s), sprintf("%.3f", r), goal
    }
  }' "$results"
