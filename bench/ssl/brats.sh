#!/bin/bash
# Semi-supervised against labelled-only training on the BraTS cases of ../shared/data (issue 18):
# labels of one case (pat0004), two more used unlabelled (pat0005, pat0006: --ignore-labels-of),
# and a case used for neither (pat0003) to score. The same seed, epochs and size for every run;
# each run's Dice on pat0003, and on the two unlabelled cases (what a transductive user gets): the
# mean over the four tumour classes and the whole tumour. Prints a table; writes OUT/results.tsv.
# Needs a python3 with numpy and nibabel (PY).
#   DLK_BIN=build/stage/bin bash bench/ssl/brats.sh [OUT]
# Knobs (environment): SEEDS ("1 2 3"), EPOCHS (30), SIZE (64), BASE (8), MT_OPTS and PL_OPTS
# (more dlk-train options of the mean-teacher and pseudo-label runs), METHODS (the runs to do; the
# table includes earlier runs in OUT), THREADS (1 per run;
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
PY=${PY:-$(for p in python3 /usr/bin/python3; do "$p" -c "import numpy, nibabel" 2>/dev/null && { echo "$p"; break; }; done)}
[ -n "$PY" ] || { echo "brats.sh: no python3 with numpy and nibabel (set PY)" >&2; exit 1; }
prep() { # DATASET CASE SPLIT
  local d=$DATA/brats_2013_$2_1
  "$BIN/dlk-prep" -q --image "$d/Flair_subtrMeanDivStd.nii.gz" --image "$d/T1c_subtrMeanDivStd.nii.gz" --channels flair,t1c \
    $NORMALIZE --label "$d/OTMultiClass.nii.gz" --classes background,necrosis,edema,nonenhancing,enhancing \
    --case "$2" --split-name "$3" -o "$1"
}
rm -rf "$OUT/all" "$OUT/one"
for c in "pat0004 train" "pat0005 train" "pat0006 train" "pat0003 test"; do prep "$OUT/all" $c; done
for c in "pat0004 train" "pat0003 test"; do prep "$OUT/one" $c; done
# score RUNDIR: segments every case with the final checkpoint; per case the mean Dice over the four
# tumour classes (dlk-score's default mode) and the whole-tumour Dice (labels 1-4 against 0, BraTS's
# main region; by numpy against the original OTMultiClass.nii.gz).
score() {
  "$BIN/dlk-infer" -q -m "$1/final.dlkc" "$OUT/all" --split all -o "$1/pred" --device cpu -j "$THREADS"
  "$BIN/dlk-score" -q -p "$1/pred" -t "$OUT/all" --split all --no-distances --json "$1/scores.json" >/dev/null
  "$PY" - "$1" "$DATA" <<'PY'
import json, sys
import nibabel as nib, numpy as np
run, data = sys.argv[1:3]
j = json.load(open(run + "/scores.json"))
out = {}
for c in j["cases"]:
    d = c["classes"].values()
    p = np.asarray(nib.load(f"{run}/pred/{c['case']}.nii.gz").dataobj) > 0
    t = np.asarray(nib.load(f"{data}/brats_2013_{c['case']}_1/OTMultiClass.nii.gz").dataobj) > 0
    out[c["case"]] = {"classes": sum(x["dsc"] for x in d) / len(d), "whole": 2 * (p & t).sum() / (p.sum() + t.sum())}
json.dump(out, open(run + "/dice.json", "w"))
PY
}
# dice RUNDIR KIND CASES: the mean of KIND (classes or whole) over those cases.
dice() {
  "$PY" -c "
import json, sys
d = json.load(open(sys.argv[1] + '/dice.json')); cases = sys.argv[3].split(',')
print('%.4f' % (sum(d[c][sys.argv[2]] for c in cases) / len(cases)))" "$@"
}
run() { # NAME SEED DATASET [OPTIONS]
  local name=$1 seed=$2 ds=$3 dir=$OUT/$1-$2
  shift 3
  rm -rf "$dir"
  "$BIN/dlk-train" "$OUT/$ds" -o "$dir" --base-channels "$BASE" --size "$SIZE" --batch 8 --epochs "$EPOCHS" --seed "$seed" \
    --device cpu -j "$THREADS" -q "$@"
  score "$dir"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$seed" "$(dice "$dir" classes pat0003)" "$(dice "$dir" whole pat0003)" \
    "$(dice "$dir" classes pat0005,pat0006)" "$(dice "$dir" whole pat0005,pat0006)" >"$dir.tsv"
}
UNL="--ignore-labels-of pat0005,pat0006"
METHODS=${METHODS:-labelled-only mean-teacher pseudo-label} # which runs
MT_OPTS=${MT_OPTS:-} PL_OPTS=${PL_OPTS:-} # more options of the two semi-supervised runs
for seed in $SEEDS; do
  for r in "labelled-only $seed one" "mean-teacher $seed all --semi mean-teacher $UNL $MT_OPTS" "pseudo-label $seed all --semi pseudo-label $UNL $PL_OPTS"; do
    case " $METHODS " in *" ${r%% *} "*) ;; *) continue ;; esac
    while [ "$(jobs -r | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    run $r &
  done
done
wait
{ printf 'method\tseed\tclasses_pat0003\twhole_pat0003\tclasses_unlabelled\twhole_unlabelled\n'; cat "$OUT"/*-*.tsv | sort -k1,1 -k2n; } >"$OUT/results.tsv"
"$PY" - "$OUT/results.tsv" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
base = {x['seed']: x for x in rows if x['method'] == 'labelled-only'}
print('Mean Dice over seeds; "wins": seeds where the run beats labelled-only with the same seed (held-out pat0003).')
print('| method | seeds | pat0003: 4 classes | whole tumour | wins (classes, whole) | pat0005+6: 4 classes | whole tumour |')
print('|---|---|---|---|---|---|---|')
for m in ('labelled-only', 'mean-teacher', 'pseudo-label'):
    r = [x for x in rows if x['method'] == m]
    if not r: continue
    mean = lambda k: st.mean(float(x[k]) for x in r)
    wins = lambda k: sum(float(x[k]) > float(base[x['seed']][k]) for x in r if x['seed'] in base)
    w = '' if m == 'labelled-only' else '%d/%d, %d/%d' % (wins('classes_pat0003'), len(r), wins('whole_pat0003'), len(r))
    print('| %s | %d | %.4f | %.4f | %s | %.4f | %.4f |' % (m, len(r), mean('classes_pat0003'), mean('whole_pat0003'), w,
          mean('classes_unlabelled'), mean('whole_unlabelled')))
PY
