#!/usr/bin/env bash
# The checks that need the GPU machine, in one run (see ../shared/gpu/README.md):
#   build with CUDA LibTorch 2.x (no ITK there), run the test suite, check that a checkpoint
#   written by Debian's LibTorch 1.13 on CPU loads and computes the same in LibTorch 2.x on CUDA
#   and write one from CUDA for the way back, check numeric parity with Python PyTorch 2.x,
#   print the model summary. Ends with a short table.
# usage (on the GPU machine, from the repository root, with .gpu/ prepared as device-build.sh
# says and .gpu/ckpt113/S made here by `build/tests/dlk-parity-export S .gpu/ckpt113/S`):
#   bash bench/device-check.sh            results and logs under $OUT (default /tmp/dlk-device)
set -uo pipefail
OUT=${OUT:-/tmp/dlk-device}
mkdir -p "$OUT"
rows=()
row() { rows+=("$(printf '%-52s %s' "$1" "$2")"); }
since() { echo "$(( $(date +%s) - $1 )) s"; }

t=$(date +%s)
if bash .gpu/device-build.sh -DDLK_WITH_ITK=OFF >"$OUT/build.log" 2>&1; then
  row "build: CUDA LibTorch, DLK_WITH_ITK=OFF" "ok ($(since $t))"
else
  row "build: CUDA LibTorch, DLK_WITH_ITK=OFF" "FAILED (see build.log)"
  tail -40 "$OUT/build.log"
  printf '%s\n' "${rows[@]}"
  exit 1
fi
X=build-gpu/tests/dlk-parity-export

t=$(date +%s)
ctest --test-dir build-gpu -j 16 --output-on-failure >"$OUT/ctest.log" 2>&1
row "ctest (e2e tests that need ITK or data skip)" "$(grep -E 'tests passed' "$OUT/ctest.log" | head -1) ($(since $t))"
grep -E "\*\*\*Failed|\(Failed\)" "$OUT/ctest.log" | head -10

for dev in cuda cpu; do
  if "$X" --verify .gpu/ckpt113/S $dev >/tmp/verify.log 2>&1; then r=ok; else r=FAILED; fi
  cat /tmp/verify.log >>"$OUT/verify.log"
  row "1.13 CPU checkpoint -> 2.x on $dev" "$r: $(cut -c1-200 /tmp/verify.log | tail -1)"
done
if "$X" S "$OUT/ckpt2x" cuda >/tmp/export.log 2>&1; then
  row "2.x CUDA checkpoint written for 1.13" "ok (ckpt2x/, verify it on the CPU machine)"
else
  row "2.x CUDA checkpoint written for 1.13" "FAILED: $(tail -1 /tmp/export.log)"
fi

t=$(date +%s)
if DLK_PYTHON=python3 bash tests/parity/parity.sh "$X" >"$OUT/parity.log" 2>&1; then r=ok; else r=FAILED; fi
row "C++ vs Python PyTorch parity, S M L, fp32 CPU" "$r ($(since $t)); $(grep -c '^ok' "$OUT/parity.log") of 6 ok"
cat "$OUT/parity.log"

row "dlk-train --summary --variant L" "$(build-gpu/tools/dlk-train --summary --variant L | grep -oE 'paper MACs: +[0-9,]+')"
row "dlk-prep --version" "$(build-gpu/tools/dlk-prep --version | tr '\n' ' ' | cut -c1-120)"
row "device" "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"

echo
echo "== dlk device check, $(date -u +%Y-%m-%dT%H:%MZ) =="
printf '%s\n' "${rows[@]}"
