#!/usr/bin/env bash
# A private one-node Slurm cluster for the tests (Debian's slurm-wlm and munge, as root, no
# systemd): everything (config, key, sockets, state, logs, pids) under DIR.
#   local-cluster.sh start DIR   prints "export SLURM_CONF=DIR/slurm.conf" when the node is idle
#   local-cluster.sh stop DIR    cancels the jobs and stops the daemons
set -euo pipefail
cmd=${1:?usage: local-cluster.sh start|stop DIR}
DIR=$(mkdir -p "${2:?usage: local-cluster.sh start|stop DIR}" && cd "$2" && pwd -P)
CONF=$DIR/slurm.conf

stop() {
  export SLURM_CONF=$CONF
  scancel --quiet --full -u root 2>/dev/null || true
  for d in slurmd slurmctld munged; do
    [ -s "$DIR/$d.pid" ] && kill "$(cat "$DIR/$d.pid")" 2>/dev/null || true
  done
  sleep 0.5
  for d in slurmd slurmctld munged; do
    [ -s "$DIR/$d.pid" ] && kill -9 "$(cat "$DIR/$d.pid")" 2>/dev/null || true
    rm -f "$DIR/$d.pid"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "local-cluster.sh: unknown command $cmd" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "local-cluster.sh: needs root" >&2; exit 3; }
for b in munged slurmctld slurmd sinfo sbatch; do command -v $b >/dev/null || { echo "local-cluster.sh: $b missing (scripts/install-deps)" >&2; exit 3; }; done

# munged refuses a socket directory that is not world-executable: key and socket apart.
mkdir -p "$DIR/key" "$DIR/sock" "$DIR/state" "$DIR/spool" "$DIR/log"
chmod 755 "$DIR" "$DIR/sock"
chmod 700 "$DIR/key"
[ -s "$DIR/key/munge.key" ] || dd if=/dev/urandom of="$DIR/key/munge.key" bs=1 count=1024 status=none
chmod 600 "$DIR/key/munge.key"
host=$(hostname -s)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024) - 1024 }' /proc/meminfo)
cat >"$CONF" <<CONF
ClusterName=dlktest
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued job may start again after cred_expire seconds (default 120)
AuthInfo=socket=$DIR/sock/munge.sock,cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.daemon.pid
SlurmdPidFile=$DIR/slurmd.daemon.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$CONF
munged --key-file="$DIR/key/munge.key" --socket="$DIR/sock/munge.sock" --pid-file="$DIR/munged.pid" \
  --log-file="$DIR/log/munged.log" --seed-file="$DIR/key/seed" >&2
for _ in $(seq 50); do [ -S "$DIR/sock/munge.sock" ] && break; sleep 0.1; done
setsid slurmctld -D -c >"$DIR/log/slurmctld.out" 2>&1 </dev/null &
echo $! >"$DIR/slurmctld.pid"
setsid slurmd -D >"$DIR/log/slurmd.out" 2>&1 </dev/null &
echo $! >"$DIR/slurmd.pid"
for _ in $(seq 120); do
  case "$(sinfo -h -o %T 2>/dev/null | head -n 1)" in idle | mixed | allocated) echo "export SLURM_CONF=$CONF"; exit 0 ;; esac
  sleep 0.5
done
echo "local-cluster.sh: the node did not become idle; logs in $DIR/log" >&2
tail -n 20 "$DIR"/log/*.log >&2 || true
stop
exit 1
