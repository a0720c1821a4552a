#!/usr/bin/env bash
# Everything the GPU machine checks and measures, in one command, side by side on one card:
#   1. build dlk with the machine's CUDA LibTorch (../shared/gpu/device-build.sh, no ITK there);
#   2. the whole test suite (ctest, GPU tests included: label gpu), first, so that no benchmark can
#      crowd it out;
#   3. the kernel micro-benchmark (bench/kernels/depthwise_bench.cpp);
#   4. per variant: the Python reference (bench/reference/train_bench.py, bf16, NCHW,
#      torch.backends.cudnn.benchmark = True: batch 24 of random 224x224, Adam, median of 20
#      steps; forward of 64 slices), then dlk-train end to end on a real dataset (loader,
#      augmentation on the GPU, bf16, batch 24, 224x224, Adam; median img/s of epochs 2..N) and
#      dlk-infer end to end from shards to label shards (2,480 slices, batch 64; again with
#      --prefetch 0, the batch pipeline off), with each of KERNELS (--depthwise values); dlk-train
#      once more with --optimizer-step loop (the fused Adam step off); dlk-step-bench, the model
#      alone as train_bench.py measures it;
#   5. a checkpoint written on CUDA (for the LibTorch 1.13 check on the CPU machine), the loss curve
#      of 200 seeded steps against the Python reference's (bench/reference/train_curve.py), a
#      kernel profile of 3 training steps (LibTorch's profiler), and Python with torch.compile
#      (its compilation has its own time limit).
# Phases after DEADLINE seconds are skipped, saying so. Everything (logs, JSON, the profile, the
# checkpoint) is packed into ONE archive, $OUT/dlk-gpu-run.tar.gz (the machine returns at most 8
# files), with summary.md beside it; the summary table is printed last.
# usage (GPU machine, repository root, .gpu/ prepared as device-build.sh says):
#   bash bench/gpu/run.sh [DATASET]   DATASET: a dlk-prep dataset with a train split
#   [.gpu/bench-ds: the four BraTS FLAIR volumes of ../shared/data, 620 slices of 240x240, made on
#   the CPU machine by bench/gpu/make-dataset.sh; .gpu/deps-extra.tar.gz: nlohmann-json, libpng
#   and zlib, which deps-bookworm.tar.gz lacks, made by bench/gpu/make-deps-extra.sh]
# Environment: EPOCHS (3), VARIANTS ("L"), KERNELS ("dlk"; add torch for LibTorch's convs,
# whose cuDNN search takes minutes channels-last), BATCH (24), DEVICE (cuda; cpu for a dry run of
# the script here), SKIP_BUILD=1, CTEST_TIMEOUT (300 s), DEADLINE (520 s).
set -uo pipefail
DS=${1:-.gpu/bench-ds}
OUT=${OUT:-/tmp/dlk-gpu-bench}
EPOCHS=${EPOCHS:-3}
VARIANTS=${VARIANTS:-L}
KERNELS=${KERNELS:-dlk}
BATCH=${BATCH:-24}
DEVICE=${DEVICE:-cuda}
BUILD=${BUILD:-build-gpu}
W=$(mktemp -d /tmp/dlk-gpu-work.XXXXXX)
mkdir -p "$OUT"
B=$BUILD/tools
rows=()
row() { rows+=("- $1"); echo "- $1"; }
t0=$(date +%s)
# summary.md and the archive are rewritten after every phase, so that a run cut short still
# leaves its results.
finish() {
  python3 "$W/table.py" "$W" "$VARIANTS" "$BATCH" >"$W/table.md" 2>"$W/table.err"
  {
    echo "== dlk vs Python PyTorch: $(tr '\n' ' ' <"$W/device.txt" 2>/dev/null); $(git rev-parse --short HEAD 2>/dev/null); $(date -u +%FT%RZ); dataset $DS; $EPOCHS epochs =="
    printf '%s\n' "${rows[@]}"
    echo
    cat "$W/table.md" 2>/dev/null
    echo
    cat "$W/kernel-bench.md" 2>/dev/null
    for f in build-errors ctest-failures; do
      [ -s "$W/$f.txt" ] && { echo; echo "$f:"; cat "$W/$f.txt"; }
    done
  } >"$W/summary.md"
  cp "$W/summary.md" "$OUT/summary.md"
  tar -C "$W" --exclude='run-*/*.dlkc' --exclude='*.nsys-rep' --exclude='*.sqlite' -czf "$OUT/dlk-gpu-run.tar.gz.tmp" . 2>/dev/null &&
    mv "$OUT/dlk-gpu-run.tar.gz.tmp" "$OUT/dlk-gpu-run.tar.gz"
}
trap 'finish; echo; cat "$OUT/summary.md"' EXIT
cat >"$W/table.py" <<'PY'
# Issue 17's table: Python eager (cudnn.benchmark) and compiled against dlk, with the ratios.
import json, os, statistics, sys
w, variants, batch = sys.argv[1], sys.argv[2].split(), sys.argv[3]
py = {}
p = os.path.join(w, "python.jsonl")
for l in open(p) if os.path.exists(p) else []:
    if l.startswith("{"):
        r = json.loads(l); py[(r["variant"], "compile" if "compile" in r["mode"] else "eager")] = r
def train(v, k):
    p = os.path.join(w, f"run-{v}-{k}", "log.jsonl")
    if not os.path.exists(p): return None, None
    L = [json.loads(l) for l in open(p)]
    if not L: return None, None
    rest = L[1:] or L
    return statistics.median(l["img_per_s"] for l in rest), max(l["peak_gpu_mem_gib"] for l in L)
def infer(v, k, what="slices_per_s", run=""):
    try: return json.load(open(os.path.join(w, f"infer-{v}-{k}{run}.json")))[what]
    except Exception: return None
f = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"
ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
step = {}
p = os.path.join(w, "step.jsonl")
for l in open(p) if os.path.exists(p) else []:
    if l.startswith("{"):
        r = json.loads(l); step[(r["variant"], r.get("kernels", "dlk"))] = r
kernels = ["dlk", "nhwc", "torch"]
for v in variants:
    e, c = py.get((v, "eager"), {}), py.get((v, "compile"), {})
    print(f"### DLKUNet-{v}, bf16, batch {batch} (Python, dlk-step-bench: 24), 224x224\n")
    print("| | Python eager (cudnn.benchmark) | Python + torch.compile | " + " | ".join(f"dlk --depthwise {k}" for k in kernels) + " |")
    print("|---|---|---|" + "---|" * len(kernels))
    tr = {k: train(v, k) for k in kernels}
    print(f"| training img/s, end to end (dlk-train) | {f(e.get('train_img_per_s'))} | {f(c.get('train_img_per_s'))} | " + " | ".join(f(tr[k][0]) for k in kernels) + " |")
    print(f"| training img/s, model alone (dlk-step-bench) | | | " + " | ".join(f(step.get((v, k), {}).get('train_img_per_s')) for k in kernels) + " |")
    print(f"| inference slices/s, end to end (dlk-infer; Python: forward of 64) | {f(e.get('infer_slices_per_s'))} | {f(c.get('infer_slices_per_s'))} | " + " | ".join(f(infer(v, k)) for k in kernels) + " |")
    print(f"| inference slices/s, end to end, --prefetch 0 (batch stages in turn) | | | " + " | ".join(f(infer(v, k, run='-serial')) for k in kernels) + " |")
    print(f"| GPU idle share of dlk-infer, --prefetch 2 (0) | | | " + " | ".join(f"{f(infer(v, k, 'network_idle_share'), 2)} ({f(infer(v, k, 'network_idle_share', '-serial'), 2)})" for k in kernels) + " |")
    print(f"| inference slices/s, model alone (dlk-step-bench) | | | " + " | ".join(f(step.get((v, k), {}).get('infer_slices_per_s')) for k in kernels) + " |")
    print(f"| peak GPU GiB, training | {f(e.get('peak_gib'))} | {f(c.get('peak_gib'))} | " + " | ".join(f(tr[k][1]) for k in kernels) + " |")
    best_t = max([tr[k][0] for k in kernels if tr[k][0]] or [0]) or None
    best_i = max([infer(v, k) for k in kernels if infer(v, k)] or [0]) or None
    print(f"\nRatios (best dlk kernels): training {ratio(best_t, c.get('train_img_per_s'))} compiled Python, {ratio(best_t, e.get('train_img_per_s'))} eager "
          f"(goal 2x compiled); dlk-infer end to end {ratio(best_i, e.get('infer_slices_per_s'))} eager forward (goal 2x).\n")
PY
DEADLINE=${DEADLINE:-520} # seconds: an optional phase runs only if its time limit ends before it
in_time() { # in_time NAME SECONDS
  [ $(( $(date +%s) - t0 + $2 )) -le "$DEADLINE" ] || { row "$1: skipped (it could end past ${DEADLINE} s)"; false; }
}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # The build users make (scripts/build --cuda), with Debian bookworm's Boost, fmt, zstd and Catch2
  # from ../shared/gpu's archive; device-build.sh (the same with explicit package paths) if that fails.
  D=/opt/dlkdeps/usr
  [ -f "$D/include/boost/program_options.hpp" ] || { mkdir -p /opt/dlkdeps && tar -C /opt/dlkdeps -xzf .gpu/deps-bookworm.tar.gz; }
  [ -f "$D/include/nlohmann/json.hpp" ] || [ ! -f .gpu/deps-extra.tar.gz ] || tar -C /opt/dlkdeps -xzf .gpu/deps-extra.tar.gz
  if scripts/build --cuda --no-itk --deps "$D" --build-dir "$BUILD" --build-tests --no-install -j "$(nproc)" >"$W/build.log" 2>&1; then
    row "build: scripts/build --cuda --no-itk --deps $D ($(( $(date +%s) - t0 )) s)"
  else
    grep -E "error|FAILED" "$W/build.log" | head -30 >"$W/build-errors.txt"
    row "build: scripts/build --cuda FAILED (errors below); trying .gpu/device-build.sh"
    if ! bash .gpu/device-build.sh -DDLK_WITH_ITK=OFF >>"$W/build.log" 2>&1; then
      # Build what builds (a failing test program must not cost the measurements) and go on.
      ninja -C build-gpu -k 0 >>"$W/build.log" 2>&1
      grep -E "error|FAILED" "$W/build.log" | tail -20 >>"$W/build-errors.txt"
    fi
    BUILD=build-gpu B=build-gpu/tools
    [ -x "$B/dlk-train" ] || { row "build FAILED"; exit 1; }
    row "build: .gpu/device-build.sh ($(( $(date +%s) - t0 )) s)"
  fi
fi
"$B/dlk-train" --version >"$W/version.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$W/device.txt" 2>&1
python3 -c "import torch; print('PyTorch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())" >>"$W/device.txt" 2>&1

git rev-parse HEAD >"$W/commit.txt" 2>/dev/null
git status --short >>"$W/commit.txt" 2>/dev/null
row "build: $(grep -o 'own CUDA kernels: [A-Z]*' "$W/build.log" 2>/dev/null | tail -1), $(grep -o 'process groups: .*' "$W/build.log" 2>/dev/null | tail -1)"

# The whole suite first (GPU tests carry the label gpu: they must pass here, not skip).
t=$(date +%s)
# The CPU loss-curve test alone after the rest: 16 tests at once, each with 16 threads, made it
# run past 240 s on the 16-core machine (2026-11-30).
timeout "${CTEST_TIMEOUT:-300}" ctest --test-dir "$BUILD" -j 16 -E parity-train-curve --output-on-failure --timeout 240 >"$W/ctest.log" 2>&1
timeout 200 ctest --test-dir "$BUILD" -R parity-train-curve --output-on-failure --timeout 190 >"$W/ctest-curve.log" 2>&1
cat "$W/ctest-curve.log" >>"$W/ctest.log"
row "ctest, whole suite: $(grep -E 'tests passed' "$W/ctest.log" | head -1); parity-train-curve alone: $(grep -E 'tests passed' "$W/ctest-curve.log" | head -1) ($(( $(date +%s) - t )) s)"
timeout 60 ctest --test-dir "$BUILD" -N -L gpu 2>/dev/null | grep -E "Total Tests" >"$W/gpu-tests.txt"
row "ctest -L gpu: $(grep -cE 'Test +#[0-9]+: gpu:.* Passed' "$W/ctest.log") passed, $(grep -cE 'Test +#[0-9]+: gpu:.*Skipped' "$W/ctest.log") skipped, of $(grep -oE '[0-9]+' "$W/gpu-tests.txt" | head -1)"
grep -E "\(Failed\)|\(SEGFAULT\)|\(Timeout\)|\(Subprocess aborted\)|\*\*\*|Skipped" "$W/ctest.log" | head -40 | tee "$W/ctest-failures.txt"
finish

timeout 120 "$BUILD/dlk-depthwise-bench" "$DEVICE" >"$W/kernel-bench.md" 2>&1
finish

for v in $VARIANTS; do
  # Python as a speed-minded user runs it: cuDNN's algorithm search on, NCHW (channels-last's
  # search for the dilated depthwise conv takes minutes on an H200).
  [ "$DEVICE" = cuda ] && timeout 150 python3 bench/reference/train_bench.py --variants "$v" --modes bf16 --cudnn-benchmark \
    >>"$W/python.jsonl" 2>>"$W/python.err"
  tail -1 "$W/python.jsonl" 2>/dev/null
  for k in $KERNELS; do
    timeout 150 "$B/dlk-train" "$DS" -o "$W/run-$v-$k" --depthwise "$k" --variant "$v" --batch "$BATCH" --size 224 \
      --epochs "$EPOCHS" --device "$DEVICE" --precision bf16 --val-every 1000 --save-every 1000 -q 2>"$W/train-$v-$k.err"
    echo "train $v $k: exit $? $(tail -c 300 "$W/train-$v-$k.err")"
    [ -f "$W/run-$v-$k/final.dlkc" ] || continue
    # The dataset's shards four times over as one stream (2,480 slices), so that start-up (CUDA,
    # the checkpoint, cuDNN's algorithm search) weighs as it would on a real test set.
    for i in 1 2 3 4; do cat "$DS"/*.dlks; done |
      timeout 100 "$B/dlk-infer" -m "$W/run-$v-$k/final.dlkc" - -o - --batch 64 --depthwise "$k" \
        --device "$DEVICE" --precision bf16 --stats "$W/infer-$v-$k.json" -q >/dev/null 2>"$W/infer-$v-$k.err"
    echo "infer $v $k: $(grep -o '"slices_per_s": [0-9.]*' "$W/infer-$v-$k.json" 2>/dev/null) $(tail -c 300 "$W/infer-$v-$k.err")"
    # The same with each batch's stages one after another (--prefetch 0): what the pipeline buys.
    for i in 1 2 3 4; do cat "$DS"/*.dlks; done |
      timeout 100 "$B/dlk-infer" -m "$W/run-$v-$k/final.dlkc" - -o - --batch 64 --depthwise "$k" --prefetch 0 \
        --device "$DEVICE" --precision bf16 --stats "$W/infer-$v-$k-serial.json" -q >/dev/null 2>>"$W/infer-$v-$k.err"
  done
  finish
done
# What the fused Adam step (dlk-train's default on a GPU) buys: the first variant's run again with
# torch::optim's loop.
v=${VARIANTS%% *}
if [ "$DEVICE" = cuda ] && in_time "training with --optimizer-step loop" 160; then
  timeout 150 "$B/dlk-train" "$DS" -o "$W/run-$v-dlk-loop" --variant "$v" --batch "$BATCH" --size 224 --optimizer-step loop \
    --epochs "$EPOCHS" --device "$DEVICE" --precision bf16 --val-every 1000 --save-every 1000 -q 2>"$W/train-$v-loop.err"
  row "dlk-train $v --optimizer-step loop (exit $?): median img/s $(python3 -c "import json, statistics, sys; L = [json.loads(l) for l in open(sys.argv[1])]; print(statistics.median(l['img_per_s'] for l in (L[1:] or L)))" "$W/run-$v-dlk-loop/log.jsonl" 2>/dev/null) against fused: see the table"
fi
finish

# The model alone, measured as train_bench.py measures Python (random batches, no data path).
for v in $VARIANTS; do
  for k in $KERNELS; do
    [ "$DEVICE" = cuda ] && timeout 120 "$BUILD/dlk-step-bench" "$v" --depthwise "$k" | sed "s/^{/{\"kernels\": \"$k\", /" |
      tee -a "$W/step.jsonl"
  done
done


if [ "$DEVICE" = cuda ]; then
  "$BUILD/tests/dlk-parity-export" S "$W/ckpt2x" cuda >"$W/export.log" 2>&1 &&
    row "checkpoint written by LibTorch 2.x on CUDA: ckpt2x/ in the archive (check it on the CPU machine)"
fi

# Where a training step's GPU time goes: LibTorch's profiler over 3 steps of DLKUNet-L.
if [ "$DEVICE" = cuda ] && in_time "profile" 100; then
  for k in $KERNELS; do
    [ "$k" = torch ] && continue # cuDNN's own split is in ../shared/anchors
    echo "### DLKUNet-L, --depthwise $k" >>"$W/profile.md"
    timeout 45 "$BUILD/dlk-step-bench" L "$W/trace-L-$k.json" --depthwise "$k" >/dev/null 2>>"$W/trace.err" &&
      python3 bench/gpu/trace_summary.py "$W/trace-L-$k.json" >>"$W/profile.md" 2>>"$W/trace.err"
    echo >>"$W/profile.md"
  done
  rm -f "$W"/trace-L-*.json
  row "profile of 3 training steps, DLKUNet-L: profile.md ($(wc -l <"$W/profile.md" 2>/dev/null || echo 0) lines)"
fi
finish

# Python with torch.compile: its compilation may take minutes, and has its own limit.
if [ "$DEVICE" = cuda ] && in_time "Python torch.compile" 160; then
  for v in $VARIANTS; do
    timeout 150 python3 bench/reference/train_bench.py --variants "$v" --modes bf16+compile --cudnn-benchmark \
      >>"$W/python.jsonl" 2>>"$W/python-compile.err"
    row "Python bf16 + torch.compile, $v: exit $? $(grep compile "$W/python.jsonl" | tail -1 | cut -c1-200)"
  done
fi

finish

# The loss curve: 200 seeded steps of DLKUNet-L (bf16, batch 8 of 224x224) against the Python
# reference repeating them, within the reference's own noise (bench/reference/train_curve.py).
if [ "$DEVICE" = cuda ] && in_time "loss curve" 150; then
  timeout 60 "$BUILD/tests/dlk-curve-export" L "$W/curve-L" 200 96 cuda bf16 224 8 >"$W/curve.log" 2>&1 &&
    timeout 90 python3 bench/reference/train_curve.py "$W/curve-L" --noise-runs 1 >>"$W/curve.log" 2>&1
  row "loss curve vs Python (exit $?): $(tail -1 "$W/curve.log")"
fi
row "total $(( $(date +%s) - t0 )) s"
