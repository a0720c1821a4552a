#!/usr/bin/env bash
# Byte-identity of two dlk builds' outputs for the same inputs: a refactoring must change no byte
# a user keeps. usage: bench/libs/identical.sh BASE_BIN NEW_BIN WORKDIR [DATA]
# (DATA: the test data directory, default ../shared/data beside the checkout). It runs the same
# commands with each build's tools, in the spellings both accept, and compares every file they
# write and what they print on stdout; log.jsonl is compared without its timings. Exit 1 if any
# output differs.
set -uo pipefail
A=$1 B=$2 W=$3
DATA=${4:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}
D=$DATA/totalseg-ct-small
[ -d "$D" ] || { echo "no test data in $DATA"; exit 2; }
rm -rf "$W"; mkdir -p "$W"
CLASSES=background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach
run() { # v bin
  local v=$1 bin=$2 o=$W/out
  rm -rf "$o"; mkdir -p "$o"
  for c in "ct01 train" "ct02 test" "ct03 val" "ct04 train"; do set -- $c
    "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --classes $CLASSES --case $1 --split-name $2 -o "$o/ds" || echo "prep failed"; done
  "$bin/dlk-prep" -q --image $D/ct.nii.gz --case noseg -o "$o/ds2" || echo "prep2 failed"
  "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --case s --axis coronal --normalize zscore \
    --spacing 1.5,1.5 --dtype float32 -o - > "$o/stream.dlks" || echo "prep3 failed"
  "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --case f --folds 2 -o "$o/ds3" || echo "prep4 failed"
  "$bin/dlk-train" -q "$o/ds" -o "$o/run" --base-channels 8 --size 64 --batch 4 --epochs 2 --device cpu -j 1 --seed 7 --deterministic \
    --loss dynamic --schedule poly >/dev/null 2>&1 || echo "train failed"
  "$bin/dlk-train" -q "$o/ds" -o "$o/semi" --base-channels 8 --size 64 --batch 4 --epochs 1 --max-steps 3 --device cpu -j 1 --seed 7 \
    --deterministic --semi mean-teacher --ignore-labels-of ct04 >/dev/null 2>&1 || echo "semi failed"
  "$bin/dlk-train" --summary --variant M --size 128 > "$o/summary.txt" || echo "summary failed"
  "$bin/dlk-infer" -q -m "$o/run/final.dlkc" "$o/ds" -o "$o/pred" --device cpu -j 1 || echo "infer failed"
  "$bin/dlk-infer" -q -m "$o/run/final.dlkc" "$o/ds" -o - --device cpu -j 1 --split all --tta --probabilities > "$o/labels.dlks" || echo "infer2 failed"
  "$bin/dlk-infer" -q -m "$o/run/final.dlkc" --image $D/ct.nii.gz --case one -o "$o/pred1" --device cpu -j 1 --keep-largest all \
    --probability-maps "$o/maps" || echo "infer3 failed"
  "$bin/dlk-score" --pred "$o/pred" --truth "$o/ds" --csv "$o/s.csv" --json "$o/s.json" > "$o/score.txt" || echo "score failed"
  "$bin/dlk-score" --pred "$o/labels.dlks" --truth "$o/ds" --split all --mode nnunet --keep-largest liver,spleen --json "$o/s2.json" > "$o/score2.txt" || echo "score2 failed"
  "$bin/dlk-report" table "$o/s.json" --name x --checkpoint "$o/run/final.dlkc" --published synapse -o "$o/t.md"
  "$bin/dlk-report" table "$o/s.json" "$o/s2.json" --name x --name y --format latex -o "$o/t.tex"
  "$bin/dlk-report" table1 --format csv -o "$o/t1.csv"
  "$bin/dlk-report" curves "$o/run/log.jsonl" --metric loss -o "$o/c.svg"
  "$bin/dlk-report" heatmap "$o/s.json" "$o/s2.json" --name S/8 --name M/8 -o "$o/h.svg"
  "$bin/dlk-report" overlay --image $D/ct.nii.gz --truth $D/seg.nii.gz --pred "$o/pred1/one.nii.gz" -o "$o/o.png"
  "$bin/dlk-report" panel "$o/ds" --pred "$o/pred" --name model --rows 1 -o "$o/p.png"
  "$bin/dlk-report" html "$o/t.md" "$o/c.svg" -o "$o/r.html"
  "$bin/dlk-prep" --check "$o/ds" > "$o/check.txt" 2>&1
  mv "$o" "$W/$v"
}
run A "$A"; run B "$B"
cd "$W/A"
for f in $(find . -type f | sort) $(cd "$W/B" && find . -type f | sort); do
  [ -e "$W/A/$f" ] && [ -e "$W/B/$f" ] || { echo "ONLY IN ONE $f"; continue; }
  case $f in
    */log.jsonl) /usr/bin/python3 - "$W/A/$f" "$W/B/$f" <<'PY' && echo "same (timings aside) $f" || echo "DIFFERS $f" ;;
import json, sys
def load(p):
    out = []
    for line in open(p):
        d = json.loads(line, object_pairs_hook=list)
        out.append([(k, v) for k, v in d if not any(t in k for t in ("time", "seconds", "_s", "per_s", "date", "host"))])
    return out
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
    */latest.dlkc) /usr/bin/python3 - "$W/A/$f" "$W/B/$f" <<'PY' && echo "same (optimizer blob aside) $f" || echo "DIFFERS $f" ;;
# LibTorch's serialized optimizer state ("optim/state") differs from run to run of one build (a
# run twice into the same directory gives two blobs): the header and every other tensor must not.
import json, sys
def load(p):
    b = open(p, "rb").read()
    s = b[:1 << 20].decode("latin1")
    head = json.JSONDecoder().raw_decode(s[s.find("{"):])[0]
    tensors = {t["name"]: t["crc32"] for t in head.pop("tensors") if t["name"] != "optim/state"}
    return head, tensors
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
    *) cmp -s "$f" "$W/B/$f" && echo "identical $f" || echo "DIFFERS $f" ;;
  esac
done | sort -u >"$W/comparison"
cat "$W/comparison"
echo "$(grep -c . "$W/comparison") outputs compared, $(grep -c "^DIFFERS\|^ONLY" "$W/comparison") differ"
! grep -q "^DIFFERS\|^ONLY" "$W/comparison"
