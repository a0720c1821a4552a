#!/usr/bin/env bash
# dlk-infer on this machine's CPU beside what a CPU user would pick instead, in one run on the same
# cores, for DLKUNet-S and -L (C = 96, 9 classes, 224x224, random weights from dlk-train
# --epochs 0): ONNX Runtime on dlk-export's model and on torch.onnx's export of the Python
# reference, and PyTorch 2.x from pip (eager and torch.compile, fp32 and bf16), all with the same
# weights. Prints one table and the ratios the issue tracker asks about.
#   dlk-infer: end to end, 4 copies of the shared CT (120 slices) from a dlk-prep dataset to a
#     stream of label shards: read, decode, normalize, resize, network, argmax, resize back,
#     encode, write. Rows: the default (dlk's CPU network, fp32 here unless the CPU has AMX, where
#     oneDNN's bf16 runs), --precision fp32, LibTorch's network (DLK_CPU_NETWORK=libtorch: what
#     the CPU network bought), and the CPU network's AVX2 form (DLK_CPU_ISA=avx2, for a CPU without
#     AVX-512). Both builds when there: Debian's LibTorch 1.13 (build/) and pip's 2.x
#     (build-torch2/).
#   Python: the network alone (bench/infer/cpu_anchors.py), 30 slices, 1 and 8 a forward pass, in
#     the pip PyTorch's virtual environment that scripts/check makes (onnxruntime and onnx are
#     installed into it when missing). Every mode has a time limit (LIMIT, 240 s); torch.compile
#     one of its own (COMPILE_LIMIT, 150 s), since its first compile can take most of it.
# The whole run takes about 8 minutes on 2 cores.
# usage: bash bench/infer/cpu.sh [DATA_DIR=../shared/data]
#        VARIANTS="S L"; MODES_S, MODES_L: the Python modes (default: all for S; for L eager-fp32,
#        compile-fp32 and the two ONNX Runtime ones); TORCH_VERSION, DLK_CACHE as scripts/check.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
CACHE=${DLK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dlk}
VENV=$CACHE/torch-$TORCH_VERSION
VARIANTS=${VARIANTS:-S L}
MODES_S=${MODES_S:-eager-fp32 eager-bf16 compile-fp32 compile-bf16 ort-fp32 ort-dlk-export}
MODES_L=${MODES_L:-eager-fp32 compile-fp32 ort-fp32 ort-dlk-export}
T=$(mktemp -d /tmp/dlk-bench-infer.XXXXXX)
trap 'rm -rf "$T"' EXIT
CT=$DATA/totalseg-ct-small/ct.nii.gz
B=build/tools
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(grep -o -w -m1 -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "date: $(date -u); commit $(git rev-parse --short HEAD)"
for i in 1 2 3 4; do
  "$B/dlk-prep" -q --image "$CT" --label "$DATA/totalseg-ct-small/seg.nii.gz" --label-map totalseg-synapse \
    --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case ct$i \
    --split-name test -o "$T/ds"
done
if [ -x "$VENV/bin/python" ]; then
  "$VENV/bin/python" -c "import onnxruntime, onnx" 2>/dev/null || "$VENV/bin/pip" install -q onnxruntime onnx
fi

: >"$T/rows.jsonl"
dlk() { # VARIANT BUILD LABEL [ENV=VALUE ...] -- ARGS...: one dlk-infer run, a JSON line from its --stats
  local v=$1 build=$2 label=$3 envs=()
  shift 3
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  [ -x "$build/tools/dlk-infer" ] || return 0
  env "${envs[@]}" "$build/tools/dlk-infer" -q -m "$T/$v/final.dlkc" "$T/ds" -o "$T/labels.dlks" --device cpu \
    --stats "$T/s.json" "$@"
  /usr/bin/python3 - "$T/s.json" "$v" "$label" >>"$T/rows.jsonl" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(json.dumps({"variant": sys.argv[2], "name": sys.argv[3], "precision": s["precision"], "e2e": s["slices_per_s"],
                  "network": s["network_slices_per_s"], "stages": s["stage_seconds"]}))
PY
}
for v in $VARIANTS; do
  "$B/dlk-train" -q "$T/ds" --train-split test -o "$T/$v" --variant "$v" --epochs 0 --device cpu
  dlk "$v" build "dlk-infer, LibTorch 1.13 build" --
  dlk "$v" build "dlk-infer, LibTorch 1.13 build" -- --precision fp32
  dlk "$v" build "dlk-infer, LibTorch's network (DLK_CPU_NETWORK=libtorch)" DLK_CPU_NETWORK=libtorch -- --precision fp32
  dlk "$v" build "dlk-infer, AVX2 form (DLK_CPU_ISA=avx2)" DLK_CPU_ISA=avx2 -- --precision fp32
  dlk "$v" build-torch2 "dlk-infer, LibTorch $TORCH_VERSION build" --
  dlk "$v" build-torch2 "dlk-infer, LibTorch $TORCH_VERSION build" -- --precision fp32
  if [ -x "$VENV/bin/python" ]; then
    onnx=()
    if [ -x "$B/dlk-export" ]; then
      "$B/dlk-export" -q -m "$T/$v/final.dlkc" -o "$T/$v.onnx"
      onnx=(--onnx "$T/$v.onnx")
    fi
    modes=MODES_$v
    "$VENV/bin/python" bench/infer/cpu_anchors.py "$T/$v/final.dlkc" --slices 30 --batches 1 8 "${onnx[@]}" \
      --limit "${LIMIT:-240}" --compile-limit "${COMPILE_LIMIT:-150}" --modes ${!modes:-ort-fp32} --variant "$v" \
      2>"$T/py.err" >>"$T/rows.jsonl" || { echo "cpu_anchors.py failed:"; tail -5 "$T/py.err"; }
  fi
done
[ -x "$VENV/bin/python" ] || echo "no $VENV (scripts/check --only 2 makes it): no Python rows"

/usr/bin/python3 - "$T/rows.jsonl" "$(nproc)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\n| variant | what ({sys.argv[2]} CPU cores, 224x224) | slices/s end to end | network alone | stage seconds |")
print("|---|---|---|---|---|")
for r in rows:
    if "name" in r:
        st = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items())
        print(f"| {r['variant']} | {r['name']}, {r['precision']} | {r['e2e']:.2f} | {r['network']:.2f} | {st} |")
    else:
        lib = f"onnxruntime {r['onnxruntime']}" if "onnxruntime" in r else f"torch {r['torch'].split('+')[0]}"
        what = f"Python: {r['mode']} ({lib}), batch {r['batch']}"
        print(f"| {r['variant']} | {what} | | {r.get('slices_per_s', '-') if 'error' not in r else r['error']} | |")
print()
for v in dict.fromkeys(r["variant"] for r in rows):
    mine = [r for r in rows if r["variant"] == v and "name" in r]
    py = [r for r in rows if r["variant"] == v and "mode" in r and "error" not in r]
    if not mine:
        continue
    dlk = mine[0]
    for kind, pick in (("ONNX Runtime", lambda r: r["mode"].startswith("ort")), ("PyTorch", lambda r: not r["mode"].startswith("ort"))):
        best = max((r for r in py if pick(r)), key=lambda r: r["slices_per_s"], default=None)
        if best:
            print(f"{v}: dlk-infer end to end ({dlk['precision']}) {dlk['e2e']:.2f} slices/s = {dlk['e2e'] / best['slices_per_s']:.2f}x "
                  f"{kind}'s best network alone ({best['mode']}, batch {best['batch']}, {best['slices_per_s']:.2f})")
    avx2 = next((r for r in mine if "AVX2" in r["name"]), None)
    ort = max((r for r in py if r["mode"].startswith("ort")), key=lambda r: r["slices_per_s"], default=None)
    if avx2 and ort:
        print(f"{v}: AVX2 form {avx2['e2e']:.2f} slices/s = {avx2['e2e'] / ort['slices_per_s']:.2f}x that ONNX Runtime "
              f"(which used this CPU's widest vectors)")
    lt = next((r for r in mine if "LibTorch's network" in r["name"]), None)
    fp32 = next((r for r in mine if r["precision"] == "fp32" and "LibTorch 1.13 build" in r["name"]), None)
    if lt and fp32:
        print(f"{v}: the CPU network {fp32['e2e']:.2f} vs LibTorch's network {lt['e2e']:.2f} slices/s end to end: "
              f"{fp32['e2e'] / lt['e2e']:.2f}x")
PY
