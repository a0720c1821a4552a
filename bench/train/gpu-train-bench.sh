#!/usr/bin/env bash
# dlk-train against the Python reference on the GPU machine, side by side in one run:
# DLKUNet S, M, L, batch 24, 224x224, bf16 + channels-last, img/s and peak memory.
# usage (GPU machine, repository root, after bench/device-check.sh built build-gpu/):
#   bash bench/train/gpu-train-bench.sh DATASET     DATASET: any dlk-prep dataset with a train
#   split (slices are resized to 224x224), e.g. one made here and carried in .gpu/
set -uo pipefail
DS=${1:?usage: gpu-train-bench.sh DATASET}
T=$(mktemp -d)
printf '%-8s %-8s %12s %10s\n' variant tool "img/s" "peak GiB" >"$T/table"
for v in S M L; do
  python3 bench/reference/train_bench.py --variants $v --modes bf16+cl | tee -a "$T/python.jsonl" |
    python3 -c "import json,sys; r=json.loads(sys.stdin.read()); print(f\"{r['variant']:8} {'python':8} {r['train_img_per_s']:12} {r['peak_gib']:10}\")" >>"$T/table"
  # 40 epochs of the dataset; the median img/s of the last 30 epochs (the first ones warm up cuDNN).
  build-gpu/tools/dlk-train "$DS" -o "$T/run-$v" --variant $v --batch 24 --size 224 --epochs 40 --device cuda \
    --val-every 1000 --save-every 1000 --save-minutes 1000 -q
  python3 - "$T/run-$v/log.jsonl" "$v" >>"$T/table" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])][10:]
print(f"{sys.argv[2]:8} {'dlk':8} {statistics.median(l['img_per_s'] for l in lines):12.1f} {max(l['peak_gpu_mem_gib'] for l in lines):10.1f}")
PY
done
echo "== dlk-train vs Python reference, $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), $(date -u +%FT%RZ)"
cat "$T/table"
