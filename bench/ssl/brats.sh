#!/bin/bash
# Semi-supervised against labelled-only training on the BraTS cases of ../shared/data (issue 18):
# labels of one case (pat0004), two more used unlabelled (pat0005, pat0006: --ignore-labels-of),
# and a case used for neither (pat0003) to score. The same seed, epochs and size for every run;
# each run's mean Dice over the four tumour classes (dlk-score's default mode) on pat0003, and on
# the two unlabelled cases (what a transductive user gets). Prints a table; writes OUT/results.tsv.
#   DLK_BIN=build/stage/bin bash bench/ssl/brats.sh [OUT]
# Knobs (environment): SEEDS ("1 2 3"), EPOCHS (30), SIZE (64), BASE (8), MT_OPTS and PL_OPTS
# (more dlk-train options of the mean-teacher and pseudo-label runs), THREADS (1 per run;
# JOBS runs at once, default 2), NORMALIZE (dlk-prep's; default --normalize percentile: the
# cases are z-scored inside the brain, but their constant backgrounds differ, -5.3 in pat0004 and
# -3.2 in pat0003, and a network taught on one case alone takes another's background for tumour).
set -euo pipefail
BIN=${DLK_BIN:-build/stage/bin}
BIN=$(cd "$BIN" && pwd)
DATA=${DLK_TEST_DATA:-$(dirname "$0")/../../../shared/data}/brats
OUT=${1:-/tmp/dlk-ssl-brats}
NORMALIZE=${NORMALIZE:---normalize percentile} SEEDS=${SEEDS:-1 2 3} EPOCHS=${EPOCHS:-30} SIZE=${SIZE:-64} BASE=${BASE:-8} THREADS=${THREADS:-1} JOBS=${JOBS:-2}
[ -d "$DATA/brats_2013_pat0003_1" ] || { echo "brats.sh: no BraTS data in $DATA" >&2; exit 1; }
mkdir -p "$OUT"
prep() { # DATASET CASE SPLIT
  local d=$DATA/brats_2013_$2_1
  "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c \
    $NORMALIZE --label "$d/OTMultiClass.nii.gz" --classes background,necrosis,edema,nonenhancing,enhancing \
    --case "$2" --split-name "$3" -o "$1"
}
rm -rf "$OUT/all" "$OUT/one"
for c in "pat0004 train" "pat0005 train" "pat0006 train" "pat0003 test"; do prep "$OUT/all" $c; done
for c in "pat0004 train" "pat0003 test"; do prep "$OUT/one" $c; done
dice() { # RUNDIR CASES -> mean Dice of the final checkpoint over those cases
  "$BIN/dlk-infer" -q -m "$1/final.dlkc" "$OUT/all" --split all -o - --device cpu -j "$THREADS" |
    "$BIN/dlk-score" -q -p - -t "$OUT/all" --split all --no-distances --json - | python3 -c "
import json, sys
j = json.load(sys.stdin); want = sys.argv[1].split(',')
d = [sum(k['dsc'] for k in c['classes'].values()) / len(c['classes']) for c in j['cases'] if c['case'] in want]
print('%.4f' % (sum(d) / len(d)))" "$2"
}
run() { # NAME SEED DATASET [OPTIONS]
  local name=$1 seed=$2 ds=$3 dir=$OUT/$1-$2
  shift 3
  rm -rf "$dir"
  "$BIN/dlk-train" "$OUT/$ds" -o "$dir" --base-channels "$BASE" --size "$SIZE" --batch 8 --epochs "$EPOCHS" --seed "$seed" \
    --device cpu -j "$THREADS" -q "$@"
  printf '%s\t%s\t%s\t%s\n' "$name" "$seed" "$(dice "$dir" pat0003)" "$(dice "$dir" pat0005,pat0006)" >"$dir.tsv"
}
UNL="--ignore-labels-of pat0005,pat0006"
MT_OPTS=${MT_OPTS:-} PL_OPTS=${PL_OPTS:-} # more options of the two semi-supervised runs
for seed in $SEEDS; do
  for r in "labelled-only $seed one" "mean-teacher $seed all --semi mean-teacher $UNL $MT_OPTS" "pseudo-label $seed all --semi pseudo-label $UNL $PL_OPTS"; do
    while [ "$(jobs -r | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    run $r &
  done
done
wait
{ printf 'method\tseed\tdice_pat0003\tdice_unlabelled\n'; cat "$OUT"/*-*.tsv | sort -k1,1 -k2n; } >"$OUT/results.tsv"
python3 - "$OUT/results.tsv" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
print('| method | seeds | Dice, held-out pat0003 (mean) | per seed | Dice, unlabelled pat0005+6 (mean) |')
print('|---|---|---|---|---|')
for m in ('labelled-only', 'mean-teacher', 'pseudo-label'):
    r = [x for x in rows if x['method'] == m]
    if not r: continue
    held = [float(x['dice_pat0003']) for x in r]; unl = [float(x['dice_unlabelled']) for x in r]
    print('| %s | %d | %.4f | %s | %.4f |' % (m, len(r), st.mean(held), ' '.join('%.4f' % h for h in held), st.mean(unl)))
PY
