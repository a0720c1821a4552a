#!/usr/bin/env bash
# dlk-infer on this machine's CPU next to the Python reference (Debian's python3-torch) with the
# same weights: DLKUNet-S (C=96, 9 classes, 224x224 input) on the 30 slices of the shared CT.
# usage: bash bench/infer/cpu.sh [DATA_DIR=../shared/data]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-../shared/data}
B=build/tools
T=$(mktemp -d /tmp/dlk-bench-infer.XXXXXX)
trap 'rm -rf "$T"' EXIT
CT=$DATA/totalseg-ct-small/ct.nii.gz
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u)"
"$B/dlk-prep" -q --image "$CT" --label "$DATA/totalseg-ct-small/seg.nii.gz" --label-map totalseg-synapse \
  --classes background,aorta,gallbladder,kidney_left,kidney_right,liver,pancreas,spleen,stomach --case ct -o "$T/ds"
"$B/dlk-train" -q "$T/ds" -o "$T/run" --variant S --epochs 0 --device cpu
# dlk-infer with its defaults on a CPU (one slice per batch; bf16 where the CPU has AVX512-BF16),
# then in fp32, then in fp32 with LibTorch's depthwise convs.
rate() { /usr/bin/python3 -c "import json; s = json.load(open('$1')); print(round(s['slices_per_s'], 3), s['precision'])"; }
"$B/dlk-infer" -m "$T/run/final.dlkc" --image "$CT" -o "$T/out" --device cpu --stats "$T/stats.json" -q
dlk=$(rate "$T/stats.json")
"$B/dlk-infer" -m "$T/run/final.dlkc" --image "$CT" -o "$T/out1" --device cpu --precision fp32 --stats "$T/stats1.json" -q
dlk32=$(rate "$T/stats1.json")
DLK_KERNELS=torch "$B/dlk-infer" -m "$T/run/final.dlkc" --image "$CT" -o "$T/out2" --device cpu --precision fp32 --stats "$T/stats2.json" -q
dlk_torch=$(rate "$T/stats2.json")
pyref() { /usr/bin/python3 - "$T/run/final.dlkc" "${1:-8}" <<'PY'
import sys, time, os, torch
sys.path.insert(0, "bench/reference")
import dlk_checkpoint
from dlkunet import from_config
meta, w = dlk_checkpoint.read(sys.argv[1])
m = from_config(meta["model"]); m.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}); m.eval()
torch.set_num_threads(os.cpu_count())
b = int(sys.argv[2])  # slices per forward pass; 8 slices in all
x = torch.randn(8, 1, 224, 224)
with torch.no_grad():
    t = time.perf_counter()
    for i in range(0, 8, b): m(x[i:i + b])
    s = time.perf_counter() - t
print(round(8 / s, 3))
PY
}
py=$(pyref)
# The same glibc setting dlk's tools make (keep freed memory, no mmap for large blocks), for Python.
py_tuned=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 pyref)
py_b1=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 pyref 1)
echo "| DLKUNet-S, 224x224, CPU | slices/s |"
echo "|---|---|"
echo "| Python reference, torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), forward of 8 slices | $py |"
echo "| the same with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 | $py_tuned |"
echo "| the same, one slice per forward pass (as dlk-infer on a CPU) | $py_b1 |"
echo "| dlk-infer (LibTorch 1.13), 30 slices end to end: read, normalize, resize, segment, write; defaults | $dlk |"
echo "| the same, --precision fp32 | $dlk32 |"
echo "| the same, fp32, LibTorch's depthwise convs (DLK_KERNELS=torch) | $dlk_torch |"
