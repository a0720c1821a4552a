#!/usr/bin/env bash
# dlk-score vs scipy (medpy's algorithm) on Synapse-sized label volumes: time of each, the ratio,
# and that both give the same numbers. usage: bash bench/score/run.sh [CASES=3] [DEPTH=150]
set -euo pipefail
cd "$(dirname "$0")/../.."
CASES=${1:-3}
DEPTH=${2:-150}
DLK=${DLK_SCORE:-build/tools/dlk-score}
PY=/usr/bin/python3
T=$(mktemp -d /tmp/dlk-bench-score.XXXXXX)
trap 'rm -rf "$T"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u)"
"$PY" bench/score/make_volumes.py "$T" "$CASES" "$DEPTH"
py=$("$PY" bench/score/medpy_scipy.py "$T/pred" "$T/truth" "$T/scipy.csv")
t0=$(date +%s.%N)
"$DLK" -q --pred "$T/pred" --truth "$T/truth" --csv "$T/dlk.csv" >/dev/null
t1=$(date +%s.%N)
dlk=$(echo "$t1 - $t0" | bc -l)
"$PY" - "$T/scipy.csv" "$T/dlk.csv" <<'PY'
import csv, sys
a = {(r["case"], r["class_id"]): r for r in csv.DictReader(open(sys.argv[1]))}
b = {(r["case"], r["class_id"]): r for r in csv.DictReader(open(sys.argv[2]))}
worst = max(abs(float(a[k][f]) - float(b[k][f])) for k in a for f in ("dsc", "hd95"))
print(f"{len(a)} case/class cells; largest difference between the two: {worst:.1e}")
PY
printf '| tool | %s cases of 512x512x%s, 8 classes | seconds | ratio |\n|---|---|---|---|\n' "$CASES" "$DEPTH"
printf '| scipy (medpy algorithm), Python %s | DSC + HD95, TransUNet rules | %.2f | 1.0 |\n' "$("$PY" -c 'import scipy; print("scipy " + scipy.__version__)')" "$py"
printf '| dlk-score (%s threads) | same | %.2f | %.1fx |\n' "$(nproc)" "$dlk" "$(echo "$py / $dlk" | bc -l)"
