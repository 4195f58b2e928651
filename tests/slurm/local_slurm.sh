#!/usr/bin/env bash
# A one-node Slurm cluster for tests, in a directory of its own:
#   tests/slurm/local_slurm.sh start DIR   installs slurm-wlm and munge if missing, writes
#                                          DIR/slurm.conf, starts munged (unless one already
#                                          answers), slurmctld and slurmd, waits for the node
#   tests/slurm/local_slurm.sh stop DIR    stops exactly the daemons start started, by PID
# Then: SLURM_CONF=DIR/slurm.conf sbatch ...
set -euo pipefail
action=${1:?usage: local_slurm.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: local_slurm.sh start|stop DIR}")

stop() {
    for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$pidfile"
    done
    echo "local slurm in $dir stopped"
}

if [ "$action" = stop ]; then
    stop
    exit 0
fi
[ "$action" = start ] || { echo "usage: local_slurm.sh start|stop DIR" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi

mkdir -p "$dir"/state "$dir"/spool /run/munge
host=$(hostname)
user=$(id -un)
cat >"$dir/slurm.conf" <<CONF
ClusterName=moesimtest
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=$user
SlurmdUser=root
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobRequeue=1
# A requeued job may start again only once its old credential has expired (default 120 s).
AuthInfo=cred_expire=10
MinJobAge=600
KillWait=10
InactiveLimit=0
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF

# munge: reuse a daemon that already answers, otherwise start our own and remember it.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; }
    /usr/sbin/munged --force --pid-file="$dir/munged.pid" 2>>"$dir/munged.log" ||
        /usr/sbin/munged --force
    [ -f "$dir/munged.pid" ] || pgrep -n munged >"$dir/munged.pid"
fi

trap 'echo "local slurm failed to start; logs in $dir" >&2; stop' ERR
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"
for _ in $(seq 1 100); do
    state=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || { echo "node state '$state'"; false; }
echo "local slurm up: SLURM_CONF=$dir/slurm.conf (node $host, $(nproc) CPUs)"
