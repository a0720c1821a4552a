#!/usr/bin/env bash
# dlk-infer on this machine's CPU beside what a CPU user would pick instead, in one run on the same
# cores: PyTorch 2.x from pip (eager and torch.compile, fp32 and bf16) and ONNX Runtime (the
# network exported by dlk-export, and from the Python reference by torch.onnx), all with the same weights: DLKUNet-S (C = 96,
# 9 classes, 224x224 input, random weights from dlk-train --epochs 0).
#   dlk-infer: end to end, 4 copies of the shared CT (120 slices) from a dlk-prep dataset to a
#     stream of label shards: read, decode, normalize, resize, network, argmax, resize back,
#     encode, write. Its --stats give the network's own rate and each stage's time. Both builds
#     when there: Debian's LibTorch 1.13 (build/) and pip LibTorch 2.x (build-torch2/).
#   Python: the network alone (bench/infer/cpu_anchors.py), 30 slices, 1 and 8 a forward pass,
#     in the pip PyTorch's virtual environment that scripts/check makes (onnxruntime and onnx are
#     installed into it when missing).
# usage: bash bench/infer/cpu.sh [DATA_DIR=../shared/data]   (TORCH_VERSION, DLK_CACHE as scripts/check;
#        MODES="ort-fp32 ort-dlk-export" runs only those Python modes)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
CACHE=${DLK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dlk}
VENV=$CACHE/torch-$TORCH_VERSION
T=$(mktemp -d /tmp/dlk-bench-infer.XXXXXX)
trap 'rm -rf "$T"' EXIT
CT=$DATA/totalseg-ct-small/ct.nii.gz
B=build/tools
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u); commit $(git rev-parse --short HEAD)"
for i in 1 2 3 4; do
  "$B/dlk-prep" -q --image "$CT" --label "$DATA/totalseg-ct-small/seg.nii.gz" --label-map totalseg-synapse \
    --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case ct$i \
    --split-name test -o "$T/ds"
done
"$B/dlk-train" -q "$T/ds" --train-split test -o "$T/run" --variant S --epochs 0 --device cpu

rows=()
dlk() { # BUILD LABEL ARGS...: one dlk-infer run, a table row from its --stats
  local build=$1 label=$2
  shift 2
  [ -x "$build/tools/dlk-infer" ] || return 0
  "$build/tools/dlk-infer" -q -m "$T/run/final.dlkc" "$T/ds" -o "$T/labels.dlks" --device cpu --stats "$T/s.json" "$@"
  rows+=("$(/usr/bin/python3 - "$T/s.json" "$label" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); t = s["stage_seconds"]
print(f"| {sys.argv[2]}, {s['precision']} | {s['slices_per_s']:.2f} | {s['network_slices_per_s']:.2f} | "
      f"{100 * s['end_to_end_share']:.1f}% | " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()) + " |")
PY
)")
}
dlk build "dlk-infer, LibTorch 1.13"
dlk build "dlk-infer, LibTorch 1.13" --precision fp32
dlk build-torch2 "dlk-infer, LibTorch $TORCH_VERSION"
dlk build-torch2 "dlk-infer, LibTorch $TORCH_VERSION" --precision fp32

if [ -x "$VENV/bin/python" ]; then
  "$VENV/bin/python" -c "import onnxruntime, onnx" 2>/dev/null || "$VENV/bin/pip" install -q onnxruntime onnx
  onnx=()
  if [ -x "$B/dlk-export" ]; then
    "$B/dlk-export" -q -m "$T/run/final.dlkc" -o "$T/dlkunet.onnx"
    onnx=(--onnx "$T/dlkunet.onnx")
  fi
  "$VENV/bin/python" bench/infer/cpu_anchors.py "$T/run/final.dlkc" --slices 30 --batches 1 8 "${onnx[@]}" \
    --modes ${MODES:-eager-fp32 eager-bf16 compile-fp32 compile-bf16 ort-fp32 ort-dlk-export} 2>"$T/py.err" >"$T/py.jsonl" \
    || { echo "cpu_anchors.py failed:"; tail -5 "$T/py.err"; }
else
  echo "no $VENV (scripts/check --only 2 makes it): no Python rows"
  : >"$T/py.jsonl"
fi

echo
echo "| DLKUNet-S, 224x224, $(nproc) CPU cores | slices/s end to end | network alone | network's share | stage seconds |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
/usr/bin/python3 - "$T/py.jsonl" "${rows[0]:-}" <<'PY'
import json, sys
best = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    name = (f"{r['mode']} (onnxruntime {r['onnxruntime']})" if "onnxruntime" in r else f"{r['mode']} (torch {r['torch'].split('+')[0]})") + f", batch {r['batch']}"
    if "error" in r:
        print(f"| Python: {name} | - | {r['error']} | | |")
        continue
    print(f"| Python: {name} | | {r['slices_per_s']:.2f} | | |")
    if best is None or r["slices_per_s"] > best[1]:
        best = (name, r["slices_per_s"])
if best and sys.argv[2]:
    dlk = float(sys.argv[2].split("|")[2])
    print(f"\ndlk-infer (first row) end to end: {dlk / best[1]:.2f}x the fastest Python anchor ({best[0]}, {best[1]:.2f} slices/s, network alone)")
PY
