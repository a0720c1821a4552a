#!/usr/bin/env bash
# Byte-identity of two dlk builds' outputs for the same inputs. usage: bench/libs/identical.sh BASE_BIN NEW_BIN WORKDIR
set -uo pipefail
A=$1 B=$2 W=$3
D=/work/shared/data/totalseg-ct-small
rm -rf "$W"; mkdir -p "$W"
run() { # v bin
  local v=$1 bin=$2 o=$W/out
  rm -rf "$o"
  for c in "ct01 train" "ct02 test" "ct03 val"; do set -- $c
    "$bin/dlk-prep" -q --image $D/ct.nii.gz --label $D/seg.nii.gz --label-map totalseg-synapse --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case $1 --split-name $2 -o "$o/ds" || echo "prep failed"; done
  "$bin/dlk-prep" -q --image $D/ct.nii.gz --case noseg -o "$o/ds2" || echo "prep2 failed"
  "$bin/dlk-train" -q "$o/ds" -o "$o/run" --base-channels 8 --size 64 --batch 4 --epochs 1 --device cpu -j 1 --seed 7 --deterministic >/dev/null 2>&1 || echo "train failed"
  "$bin/dlk-infer" -q -m "$o/run/final.dlkc" "$o/ds" -o "$o/pred" --device cpu || echo "infer failed"
  "$bin/dlk-infer" -q -m "$o/run/final.dlkc" "$o/ds" -o - --device cpu > "$o/labels.dlks" || echo "infer2 failed"
  "$bin/dlk-score" --pred "$o/pred" --truth "$o/ds" --csv "$o/s.csv" --json "$o/s.json" >/dev/null || echo "score failed"
  "$bin/dlk-report" table "$o/s.json" --name x --checkpoint "$o/run/final.dlkc" --published synapse -o "$o/t.md"
  "$bin/dlk-report" table "$o/s.json" --name x --format latex -o "$o/t.tex"
  "$bin/dlk-report" overlay --image $D/ct.nii.gz --truth $D/seg.nii.gz --pred "$o/pred/ct02.nii.gz" -o "$o/o.png"
  "$bin/dlk-prep" --check "$o/ds/ct01.dlks" > "$o/check.txt" 2>&1
  mv "$o" "$W/$v"
}
run A "$A"; run B "$B"
cd "$W/A"
for f in $(find . -type f | sort); do
  case $f in
    ./run/log.jsonl) python3 - "$W/A/$f" "$W/B/$f" <<'PY' && echo "same (timings aside) $f" || echo "DIFFERS $f";;
import json, sys
def load(p):
    out = []
    for line in open(p):
        d = json.loads(line, object_pairs_hook=list)
        out.append([(k, v) for k, v in d if not any(t in k for t in ("time", "seconds", "_s", "per_s", "date", "host"))])
    return out
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
    *) cmp -s "$f" "$W/B/$f" && echo "identical $f" || echo "DIFFERS $f";;
  esac
done
