#!/usr/bin/env bash
# Benchmark: dlk-prep vs TransUNet-style Python preparation on the same real volumes.
# Usage: bash bench/prep/run.sh [DATA_DIR]   (DATA_DIR defaults to ../shared/data beside the repo;
#        DLK_PREP overrides build/tools/dlk-prep, RUNS the number of timed runs [3]).
# Prints the median wall time (end to end, process start to exit, NIfTI reading included) and the
# output bytes of each tool/variant, then one table. See bench/prep/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=${1:-$ROOT/../shared/data}
PREP=${DLK_PREP:-$ROOT/build/tools/dlk-prep}
PY=/usr/bin/python3   # Debian's: numpy, nibabel and h5py (the pyenv python3 on PATH lacks them)
PYPREP=$ROOT/bench/prep/transunet_prep.py
RUNS=${RUNS:-3}

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
  id=${pat%:*} s=${pat#*:} d=$DATA/brats/brats_2013_pat${pat%:*}_1
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
    dlk-prep-j0) c=("$PREP" --dataset "$WORK/raw/$ds" --layout nnunet "${opts[@]}" -j 0 -q -o "$out") ;;
    dlk-prep-j1) c=("$PREP" --dataset "$WORK/raw/$ds" --layout nnunet "${opts[@]}" -j 1 -q -o "$out") ;;
  esac
  if [[ ${SHOW:-} ]]; then echo "${c[*]}"; else "${c[@]}"; fi
}

cat "$DATA"/brats/*/*.nii.gz "$DATA"/totalseg-ct-small/*.nii.gz > /dev/null  # same warm cache for all

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -h | awk '/^Mem:/{print $2}') memory"
echo "date:    $(date)"
echo "dlk-prep: $PREP ($("$PREP" --version | head -1)); python: $PY ($($PY -c \
  'import numpy, nibabel, h5py; print("numpy", numpy.__version__, "nibabel", nibabel.__version__, "h5py", h5py.__version__)'))"
results=$WORK/results.tsv
for ds in brats totalseg; do
  for v in python-npz-h5 python-npz-h5-compressed dlk-prep-j0 dlk-prep-j1; do
    echo "== $v on $ds: $(SHOW=1 variant $v $ds OUT)"
    times=()
    for ((r = 1; r <= RUNS; r++)); do
      out=$WORK/out/$v-$ds-$r
      t0=$EPOCHREALTIME; variant $v $ds "$out"; t1=$EPOCHREALTIME
      t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
      bytes=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
      echo "   run $r: $t s, $bytes bytes, $(find "$out" -type f | wc -l) files"
      times+=("$t")
      [[ $v == dlk-prep* && $r == 1 ]] && { "$PREP" --check "$out" > /dev/null || die "$out fails --check"; }
      rm -rf "$out"
    done
    median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    range=$(printf '%s\n' "${times[@]}" | sort -g | sed -n '1p;$p' | paste -sd-)
    printf '%s\t%s\t%s\t%s\t%s\n' "$v" "$ds" "$median" "$bytes" "$range" >> "$results"
  done
done

echo
echo "Median of $RUNS runs; ratios are against python-npz-h5 on the same data set."
echo "Goal: dlk-prep >= 3x faster and <= 1/3 of the bytes of python-npz-h5."
awk -F'\t' '
  $1 == "python-npz-h5" { pt[$2] = $3; pb[$2] = $4 }
  { v[NR] = $1; d[NR] = $2; t[NR] = $3; b[NR] = $4; rg[NR] = $5 }
  END {
    fmt = "| %-24s | %-8s | %7s | %-11s | %10s | %8s | %11s | %-22s |\n"
    printf fmt, "tool/variant", "data set", "seconds", "runs (s)", "output MiB", "speed-up", "bytes ratio", "goal (3x, <=1/3 bytes)"
    printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------------", "----------", "---------",
      "-------------", "------------", "----------", "-------------", "------------------------"
    for (i = 1; i <= NR; i++) {
      s = pt[d[i]] / t[i]; r = b[i] / pb[d[i]]
      goal = "-"
      if (v[i] ~ /^dlk-prep/)
        goal = (s >= 3 && r <= 1/3) ? "holds" : \
               sprintf("MISSED (%s)", s < 3 && r > 1/3 ? "time, bytes" : s < 3 ? "time" : "bytes")
      printf fmt, v[i], d[i], sprintf("%.3f", t[i]), rg[i], sprintf("%.2f", b[i] / 1048576),
        sprintf("%.2fx", s), sprintf("%.3f", r), goal
    }
  }' "$results"
