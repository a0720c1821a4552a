#!/usr/bin/env bash
# The whole GPU comparison of issue 7 in one command, side by side in one run on one card:
#   1. build dlk with the machine's CUDA LibTorch (../shared/gpu/device-build.sh, no ITK there);
#   2. the CUDA kernel tests (forward and gradients against LibTorch's conv2d) and the kernel
#      micro-benchmark (bench/kernels/depthwise_bench.cpp);
#   3. DLKUNet S, M, L: the Python reference (bench/reference/train_bench.py: bf16 autocast +
#      channels-last, PyTorch's defaults (cuDNN's algorithm search off), random batches of 24 at
#      224x224, Adam, median of 20 steps; forward of 64 slices), then dlk-train end to end on a real dataset (loader,
#      augmentation on the GPU, bf16, batch 24, 224x224, Adam; the median img/s of epochs 2..N)
#      and dlk-infer end to end from shards to label shards (batch 64), each with dlk's kernels
#      (NCHW, the default), with dlk's channels-last kernels and the network channels-last
#      (DLK_KERNELS=nhwc) and with LibTorch's (DLK_KERNELS=torch); and dlk-step-bench, the model alone measured as
#      train_bench.py measures Python;
#   4. the loss curve of 200 seeded steps against the Python reference's (bench/reference/
#      train_curve.py), a kernel profile of 3 training steps (LibTorch's profiler, dlk-step-bench), the test suite,
#      and a checkpoint written on CUDA for the LibTorch 1.13 check on the CPU machine.
# Prints one table last; $OUT (default /tmp/dlk-gpu-bench) gets summary.md, the logs in logs.tar.gz
# and a few files beside it (at most 8 in all).
# usage (GPU machine, repository root, .gpu/ prepared as device-build.sh says):
#   bash bench/gpu/run.sh [DATASET]   DATASET: a dlk-prep dataset with a train split
#   [.gpu/bench-ds: the four BraTS FLAIR volumes of ../shared/data, 620 slices of 240x240, made on
#   the CPU machine by bench/gpu/make-dataset.sh]
# Environment: EPOCHS (3), VARIANTS ("S M L"), KERNELS ("dlk nhwc torch": DLK_KERNELS values),
# BATCH (24), DEVICE (cuda; cpu for a dry run of the script), SKIP_BUILD=1, CTEST_TIMEOUT (100 s).
# All of it takes longer than one 600 s device command: VARIANTS=L, or S M L in two calls.
set -uo pipefail
DS=${1:-.gpu/bench-ds}
OUT=${OUT:-/tmp/dlk-gpu-bench}
EPOCHS=${EPOCHS:-3}
VARIANTS=${VARIANTS:-S M L}
KERNELS=${KERNELS:-dlk nhwc torch}
BATCH=${BATCH:-24}
DEVICE=${DEVICE:-cuda}
W=$(mktemp -d /tmp/dlk-gpu-work.XXXXXX)
mkdir -p "$OUT"
B=build-gpu/tools
rows=()
row() { rows+=("- $1"); echo "- $1"; }
t0=$(date +%s)
# summary.md is rewritten after every phase, so that a run cut short still leaves its results.
finish() {
  {
    echo "== dlk vs Python PyTorch: $(tr '\n' ' ' <"$W/device.txt" 2>/dev/null); $(date -u +%FT%RZ); dataset $DS; $EPOCHS epochs =="
    printf '%s\n' "${rows[@]}"
    echo
    cat "$W/table.md" 2>/dev/null
    echo
    cat "$W/kernel-bench.md" 2>/dev/null
    for f in build-errors ctest-failures; do
      [ -s "$W/$f.txt" ] && { echo; echo "$f:"; cat "$W/$f.txt"; }
    done
  } >"$OUT/summary.md"
  tar -C "$W" --exclude='*.dlkc' --exclude='*.nsys-rep' --exclude='*.sqlite' -czf "$OUT/logs.tar.gz" . 2>/dev/null
}
trap 'finish; echo; cat "$OUT/summary.md"' EXIT
DEADLINE=${DEADLINE:-520} # seconds: the optional phases at the end are skipped after it
in_time() { [ $(( $(date +%s) - t0 )) -lt "$DEADLINE" ] || { row "$1: skipped (past ${DEADLINE} s)"; false; }; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if ! bash .gpu/device-build.sh -DDLK_WITH_ITK=OFF >"$W/build.log" 2>&1; then
    # Build what builds (a failing test program must not cost the measurements) and go on;
    # without NCCL if that was what failed (multi-GPU training is not measured here).
    grep -E "error|FAILED" "$W/build.log" | head -30 >"$W/build-errors.txt"
    cmake build-gpu -DDLK_FOUND_NCCL=OFF >>"$W/build.log" 2>&1
    ninja -C build-gpu -k 0 >>"$W/build.log" 2>&1
    grep -E "error|FAILED" "$W/build.log" | tail -20 >>"$W/build-errors.txt"
    [ -x "$B/dlk-train" ] || { row "build FAILED"; exit 1; }
    row "build: PARTIAL (errors below)"
  fi
fi
row "build: $(grep -o 'own CUDA kernels: [A-Z]*' "$W/build.log" 2>/dev/null | tail -1) ($(( $(date +%s) - t0 )) s)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$W/device.txt" 2>&1
python3 -c "import torch; print('PyTorch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())" >>"$W/device.txt" 2>&1

timeout 300 build-gpu/tests/dlk-torch-tests "[kernels]" >"$OUT/kernels.log" 2>&1
row "kernel tests (dlk-torch-tests [kernels]): exit $? - $(grep -E 'All tests passed|test cases' "$OUT/kernels.log" | tail -1)"
grep -B3 -A14 "FAILED" "$OUT/kernels.log" | head -80
timeout 120 build-gpu/dlk-depthwise-bench "$DEVICE" >"$W/kernel-bench.md" 2>&1; cat "$W/kernel-bench.md"
finish

for v in $VARIANTS; do
  timeout 240 python3 bench/reference/train_bench.py --variants "$v" --modes bf16+cl >>"$OUT/python.jsonl" 2>>"$W/python.err"
  tail -1 "$OUT/python.jsonl"
  for k in $KERNELS; do
    DLK_KERNELS=$k timeout 300 "$B/dlk-train" "$DS" -o "$W/run-$v-$k" --variant "$v" --batch "$BATCH" --size 224 \
      --epochs "$EPOCHS" --device "$DEVICE" --precision bf16 --val-every 1000 --save-every 1000 -q 2>"$W/train-$v-$k.err"
    echo "train $v $k: exit $? $(tail -c 300 "$W/train-$v-$k.err")"
    [ -f "$W/run-$v-$k/final.dlkc" ] || continue
    # The dataset's shards four times over as one stream (2,480 slices), so that start-up (CUDA,
    # the checkpoint, cuDNN's algorithm search) weighs as it would on a real test set.
    for i in 1 2 3 4; do cat "$DS"/*.dlks; done |
      DLK_KERNELS=$k timeout 120 "$B/dlk-infer" -m "$W/run-$v-$k/final.dlkc" - -o - --batch 64 \
        --device "$DEVICE" --precision bf16 --stats "$W/infer-$v-$k.json" -q >/dev/null 2>"$W/infer-$v-$k.err"
    echo "infer $v $k: $(grep -o '"slices_per_s": [0-9.]*' "$W/infer-$v-$k.json" 2>/dev/null) $(tail -c 300 "$W/infer-$v-$k.err")"
  done
  finish
done
cp "$OUT/python.jsonl" "$W/" 2>/dev/null
# The model alone, measured as train_bench.py measures Python (random batches, no data path).
for v in $VARIANTS; do
  for k in $KERNELS; do
    [ "$DEVICE" = cuda ] && DLK_KERNELS=$k timeout 120 build-gpu/dlk-step-bench "$v" | sed "s/^{/{\"kernels\": \"$k\", /" |
      tee -a "$W/step.jsonl"
  done
done

python3 - "$W" "$VARIANTS" >"$W/table.md" <<'PY'
import json, os, statistics, sys
w, variants = sys.argv[1], sys.argv[2].split()
py = {}
p = os.path.join(w, "python.jsonl")
for l in open(p) if os.path.exists(p) else []:
    r = json.loads(l); py[r["variant"]] = r
def train(v, k):
    p = os.path.join(w, f"run-{v}-{k}", "log.jsonl")
    if not os.path.exists(p): return None, None
    L = [json.loads(l) for l in open(p)]
    if not L: return None, None
    rest = L[1:] or L
    return statistics.median(l["img_per_s"] for l in rest), max(l["peak_gpu_mem_gib"] for l in L)
def infer(v, k):
    try: return json.load(open(os.path.join(w, f"infer-{v}-{k}.json")))["slices_per_s"]
    except Exception: return None
f = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"
step = {}
p = os.path.join(w, "step.jsonl")
for l in open(p) if os.path.exists(p) else []:
    r = json.loads(l)
    if r.get("kernels", "dlk") == "dlk": step[r["variant"]] = r
print("| variant | train img/s: Python bf16+cl | dlk-step-bench (model alone) | dlk-train end to end, dlk kernels | dlk kernels, channels-last | dlk-train, LibTorch ops | dlk-train / Python | peak GiB: Python | dlk | dlk channels-last | infer slices/s: Python bf16+cl (forward only) | dlk-step-bench (forward only) | dlk-infer end to end, dlk kernels | dlk channels-last | LibTorch ops | dlk-infer / Python |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for v in variants:
    p = py.get(v, {})
    td, md = train(v, "dlk"); tn, mn = train(v, "nhwc"); tt, mt = train(v, "torch")
    idl, inh, it = infer(v, "dlk"), infer(v, "nhwc"), infer(v, "torch")
    best_t = max([t for t in (td, tn) if t] or [None]) if (td or tn) else None
    best_i = max([t for t in (idl, inh) if t] or [None]) if (idl or inh) else None
    pt, pi = p.get("train_img_per_s"), p.get("infer_slices_per_s")
    st = step.get(v, {})
    print(f"| {v} | {f(pt)} | {f(st.get('train_img_per_s'))} | {f(td)} | {f(tn)} | {f(tt)} | {f(best_t / pt if best_t and pt else None, 2)}x | {f(p.get('peak_gib'))} | {f(md)} | {f(mn)} | "
          f"{f(pi)} | {f(st.get('infer_slices_per_s'))} | {f(idl)} | {f(inh)} | {f(it)} | {f(best_i / pi if best_i and pi else None, 2)}x |")
print("\n| dlk-step-bench (model alone, bf16, batch 24) | DLK_KERNELS | ms per step | img/s | forward slices/s | peak GiB |\n|---|---|---|---|---|---|")
step_path = os.path.join(w, "step.jsonl")
for l in open(step_path) if os.path.exists(step_path) else []:
    r = json.loads(l)
    print(f"| {r['variant']} | {r.get('kernels')} ({r.get('depthwise')}) | {r['train_ms_per_step']} | {r['train_img_per_s']} | {r['infer_slices_per_s']} | {r['peak_gib']} |")
PY
cat "$W/table.md"
finish

if [ "$DEVICE" = cuda ]; then
  build-gpu/tests/dlk-parity-export S "$OUT/ckpt2x" cuda >"$W/export.log" 2>&1 &&
    row "checkpoint written by LibTorch 2.x on CUDA: ckpt2x/ (check it on the CPU machine)"
fi

# The loss curve: 200 seeded steps of DLKUNet-L (bf16, batch 8 of 224x224) against the Python
# reference repeating them, within the reference's own noise (bench/reference/train_curve.py).
if [ "$DEVICE" = cuda ] && in_time "loss curve"; then
  timeout 60 build-gpu/tests/dlk-curve-export L "$W/curve-L" 200 96 cuda bf16 224 8 >"$W/curve.log" 2>&1 &&
    timeout 120 python3 bench/reference/train_curve.py "$W/curve-L" --noise-runs 1 >>"$W/curve.log" 2>&1
  row "loss curve vs Python (exit $?): $(tail -1 "$W/curve.log")"
fi
finish

# Where a training step's GPU time goes: LibTorch's profiler over 3 steps of DLKUNet-L (nsys is
# not installed on the GPU machine).
if [ "$DEVICE" = cuda ] && in_time "profile"; then
  for k in $KERNELS; do
    [ "$k" = torch ] && continue # cuDNN's own split is in ../shared/anchors
    echo "### DLKUNet-L, DLK_KERNELS=$k" >>"$OUT/profile.md"
    DLK_KERNELS=$k timeout 120 build-gpu/dlk-step-bench L "$W/trace-L-$k.json" >/dev/null 2>>"$W/trace.err" &&
      python3 bench/gpu/trace_summary.py "$W/trace-L-$k.json" >>"$OUT/profile.md" 2>>"$W/trace.err"
    echo >>"$OUT/profile.md"
  done
  row "profile of 3 training steps, DLKUNet-L: profile.md ($(wc -l <"$OUT/profile.md" 2>/dev/null || echo 0) lines)"
fi
finish

if in_time "ctest"; then
  t=$(date +%s)
  timeout "${CTEST_TIMEOUT:-100}" ctest --test-dir build-gpu -j 16 --output-on-failure >"$W/ctest.log" 2>&1
  row "ctest: $(grep -E 'tests passed' "$W/ctest.log" | head -1) ($(( $(date +%s) - t )) s)"
  grep -E "\(Failed\)|\(SEGFAULT\)|\(Timeout\)|Exception|\*\*\*" "$W/ctest.log" | head -10 | tee "$W/ctest-failures.txt"
fi
row "total $(( $(date +%s) - t0 )) s"
