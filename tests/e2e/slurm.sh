# On a real local Slurm cluster (started here, as root): the demo pipeline as Slurm jobs
# (SUBMIT=sbatch), train-ddp.sbatch with two tasks over Gloo, and a training job that gets its
# pre-timeout signal, checkpoints, requeues itself and finishes from where it stopped.
. "$(dirname "$0")/lib.inc"
need_itk
need_data totalseg-ct-small
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLUSTER=$ROOT/tests/slurm/local-cluster.sh
if [ "$(id -u)" != 0 ]; then skip "not root: a local Slurm cluster cannot be started here"; fi
if ! command -v slurmctld >/dev/null; then
  [ "${CI:-}" = true ] && { echo "FAIL: slurm-wlm is not installed in CI (scripts/install-deps)"; exit 1; }
  skip "slurm-wlm is not installed (scripts/install-deps installs it)"
fi
chmod 755 "$T" # munged wants every directory above its socket world-executable
if ! start=$("$CLUSTER" start "$T/cluster" 2>"$T/cluster.err"); then
  cat "$T/cluster.err"
  if [ "${CI:-}" = true ]; then echo "FAIL: the local Slurm cluster did not start"; exit 1; fi
  skip "the local Slurm cluster did not start (see above)"
fi
eval "$start"
trap '"$CLUSTER" stop "$T/cluster"; rm -rf "$T"' EXIT
pass "a local Slurm cluster runs ($(sinfo -h -o '%n %c CPUs'))"
export DLK_BIN=$BIN
prep_ct "$T/ds" "ct01 train" "ct02 train" "ct03 test"
cd "$ROOT"

# The demo pipeline, every step a job (tiny training; the Dice floor off).
if [ -d /usr/share/mricron/templates ]; then
  expect 0 "make demo-steps SUBMIT=sbatch" timeout 600 make -f examples/Makefile demo-steps SUBMIT=sbatch T="$BIN" OUT="$T/demo" \
    DEVICE=cpu DEMO_FLOOR=0 DEMO_TRAIN="--variant S --base-channels 4 --size 32 --batch 8 --epochs 1 -j 2"
  contains "demo: mean Dice" "the pipeline ran to the end"
  ls "$T"/demo/*.slurm.log "$T"/demo/run/*.slurm.log >/dev/null 2>&1 && pass "its steps ran as Slurm jobs" || fail "no Slurm job logs"
else
  skip "mricron-data (Colin27) is not installed for the demo (scripts/install-deps --demo)"
fi

# Two tasks, Gloo.
expect 0 "train-ddp.sbatch with 2 tasks" timeout 300 sbatch --wait --gres=none --ntasks-per-node=2 --cpus-per-task=1 \
  --output="$T/ddp.log" examples/slurm/train-ddp.sbatch "$T/ds" "$T/ddp" --epochs 2 --base-channels 4 --size 32 --batch 8 --device cpu -j 1
grep -q "data-parallel over 2 processes" "$T/ddp.log" && pass "dlk-train ran over 2 Slurm tasks" || { fail "no data-parallel run"; cat "$T/ddp.log"; }
[ -s "$T/ddp/final.dlkc" ] && pass "the data-parallel run finished" || fail "no final.dlkc"

# The pre-timeout signal: checkpoint, requeue, resume, finish. The test sends the signal Slurm
# would send before the time limit (USR1 to the batch shell, as --signal=B:USR1 does) once the
# first of 8 epochs is logged, so the outcome depends on no machine's speed; the time limit and
# the waits below only catch hangs.
job=$(sbatch --parsable --gres=none --cpus-per-task=2 --time=00:30:00 --output="$T/rq.log" \
  examples/slurm/train.sbatch "$T/ds" "$T/rq" --epochs 8 --val-every 100000 --save-every 100000 \
  --base-channels 4 --size 32 --batch 8 --device cpu -j 1)
for _ in $(seq 6000); do # until the first epoch is logged (at most 10 minutes)
  [ -s "$T/rq/log.jsonl" ] && break
  squeue -h -j "$job" 2>/dev/null | grep -q . || break
  sleep 0.1
done
scancel --batch --signal=USR1 "$job" 2>/dev/null && pass "USR1 sent to the job after its first epoch" || fail "could not signal job $job"
for _ in $(seq 1200); do # until the job has left the queue (at most 20 minutes)
  squeue -h -j "$job" 2>/dev/null | grep -q . || break
  sleep 1
done
grep -q "requeueing job" "$T/rq.log" && pass "the job checkpointed and requeued itself on USR1" || { fail "no requeue"; cat "$T/rq.log"; }
grep -q "resuming" "$T/rq.log" && pass "the requeued job resumed from latest.dlkc" || fail "no resume"
grep -q "done: 8 epochs" "$T/rq.log" && [ -s "$T/rq/final.dlkc" ] && pass "and finished" || { fail "did not finish"; tail -5 "$T/rq.log"; }
finish
