# Two data-parallel processes (Gloo over loopback TCP, torchrun's variables) end with the same
# parameters as one process over the same global batch in two micro-batches (--accumulate 2):
# batch-norm statistics are per process, as in PyTorch's DDP, so that is the one-process twin.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
need_python numpy "to compare checkpoints"
READER=$(cd "$(dirname "$0")/../../bench/reference" && pwd)
prep_ct "$T/ds" "ct01 train"
ARGS="$T/ds --base-channels 8 --size 64 --batch 8 --augment transunet --lr 0.003 --deterministic -j 1 --device cpu --epochs 2"
# pair NAME [OPTIONS]: two processes against one with --accumulate 2, both with OPTIONS.
pair() {
  local name=$1
  shift
  local port
  port=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  export MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 LOCAL_RANK=0
  RANK=0 "$BIN/dlk-train" $ARGS -o "$T/ddp$name" "$@" >"$T/rank0.log" 2>&1 &
  local p0=$!
  RANK=1 timeout 300 "$BIN/dlk-train" $ARGS -o "$T/ddp$name" "$@" >"$T/rank1.log" 2>&1
  local r1=$?
  wait $p0
  local r0=$?
  unset MASTER_ADDR MASTER_PORT WORLD_SIZE LOCAL_RANK
  [ $r0 = 0 ] && [ $r1 = 0 ] && pass "$name: both processes finish" || { fail "$name: exit statuses $r0 and $r1"; cat "$T/rank0.log" "$T/rank1.log"; }
  grep -q "data-parallel over 2 processes" "$T/rank0.log" && pass "$name: rank 0 reports the world" || fail "$name: no data-parallel line"
  [ ! -s "$T/rank1.log" ] && pass "$name: rank 1 is silent" || fail "$name: rank 1 printed: $(head -3 "$T/rank1.log")"
  expect 0 "$name: one process, two micro-batches" "$BIN/dlk-train" $ARGS -o "$T/one$name" --accumulate 2 "$@"
  # Parameters (the teacher's and the student's, with --semi), not the per-process BN statistics.
  "$PY" - "$T/ddp$name/final.dlkc" "$T/one$name/final.dlkc" "$READER" <<'PYEOF' && pass "$name: same parameters (relative difference < 1e-5)" || fail "$name: parameters differ"
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np, dlk_checkpoint
_, a = dlk_checkpoint.read(sys.argv[1])
_, b = dlk_checkpoint.read(sys.argv[2])
assert a.keys() == b.keys()
params = [k for k in a if "running" not in k and "num_batches" not in k]
worst = max(float(np.abs(a[k] - b[k]).max() / (np.abs(b[k]).max() + 1e-12)) for k in params)
print("max relative difference", worst, "over", len(params), "tensors")
assert worst < 1e-5, worst
PYEOF
}
pair supervised
# Semi-supervised: each process takes its share of the unlabelled batch too (ct02's labels ignored).
prep_ct "$T/ds" "ct02 train"
pair semi --semi mean-teacher --ignore-labels-of ct02 --semi-ramp 0
export WORLD_SIZE=2 RANK=0
expect 2 "two processes without MASTER_ADDR" "$BIN/dlk-train" $ARGS -o "$T/bad"
contains "MASTER_ADDR and MASTER_PORT" "missing rendezvous explained"
finish
