#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian slurm-wlm + munge), for the scale-out test.
# Needs root: it runs munged, slurmctld and slurmd, all under $C2FNAS_SLURM_DIR (nothing in /etc).
#
#   tests/slurm/local-cluster.sh install        apt-get slurm-wlm and munge when missing
#   tests/slurm/local-cluster.sh start          start the three daemons, wait until the node is idle
#   eval "$(tests/slurm/local-cluster.sh env)"  SLURM_CONF for sbatch / squeue / scancel
#   tests/slurm/local-cluster.sh stop           cancel every job, stop exactly the daemons it started
#
# What it does differently from a textbook slurm.conf, and why (each one was a failure on these
# machines, see ../shared/notes/slurm-local.sh):
#   - proctrack/linuxproc and task/none: with cgroups, every job fails to launch in a container
#     ("cgroup namespace 'freezer' not mounted"), is still marked COMPLETED 0:0, and the node drains;
#   - a private munge socket and key under the cluster folder, whose parents are world-executable
#     (munged refuses its socket otherwise);
#   - the controller and node addresses pinned to 127.0.0.1, NodeName = `hostname -s`, and the CPU and
#     memory line taken from `slurmd -C`, so nothing depends on DNS;
#   - no accounting database; MinJobAge=300 keeps finished jobs visible to squeue / scontrol.
set -euo pipefail

BASE=${C2FNAS_SLURM_DIR:-/tmp/c2fnas-slurm}
CTLD_PORT=${C2FNAS_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${C2FNAS_SLURM_SLURMD_PORT:-6818}
CONF=$BASE/etc/slurm.conf
SOCK=$BASE/munge/munge.socket.2
PIDS=$BASE/run
LOG=$BASE/log

say() { echo "local-cluster: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
# poll SECONDS CMD...: until CMD succeeds, every 0.2 s
poll() { local end=$((SECONDS + $1)); shift; until "$@"; do (( SECONDS < end )) || return 1; sleep 0.2; done; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "installing slurm-wlm and munge needs root"
  # Keep the packages' postinst scripts from starting system-wide daemons.
  local policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy=1; fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge; } || rc=$?
  (( policy )) && rm -f /usr/sbin/policy-rc.d
  (( rc == 0 )) || die "apt-get install slurm-wlm munge failed (status $rc)"
}

write_conf() {
  local host node
  host=$(hostname -s)
  node=$(slurmd -C | head -1) || die "slurmd -C failed"
  node=${node#NodeName=* }
  cat > "$CONF" <<EOF
ClusterName=c2fnas-test
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${SOCK}
StateSaveLocation=${BASE}/state
SlurmdSpoolDir=${BASE}/spool
SlurmctldPidFile=${PIDS}/slurmctld.pid
SlurmdPidFile=${PIDS}/slurmd.pid
SlurmctldLogFile=${LOG}/slurmctld.log
SlurmdLogFile=${LOG}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
MinJobAge=300
KillWait=5
InactiveLimit=0
NodeName=${host} NodeAddr=127.0.0.1 NodeHostname=${host} ${node} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 644 "$CONF"
}

node_idle() { [[ $(SLURM_CONF=$CONF timeout 5 sinfo -h -N -n "$(hostname -s)" -o %T 2>/dev/null) == idle ]]; }
ctld_up() { SLURM_CONF=$CONF timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }
logs() { for f in slurmctld slurmd munged; do [[ -s $LOG/$f.log ]] && { say "--- $LOG/$f.log"; grep -v pmix "$LOG/$f.log" | tail -8 >&2; }; done; true; }

start() {
  [[ $(id -u) -eq 0 ]] || die "starting the daemons needs root"
  command -v slurmctld >/dev/null || die "Slurm is not installed (run: $0 install)"
  if pid_alive "$PIDS/slurmctld.pid" && pid_alive "$PIDS/slurmd.pid" && pid_alive "$PIDS/munged.pid"; then say "already running"; return 0; fi
  stop 2>/dev/null || true
  for port in "$CTLD_PORT" "$SLURMD_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (another Slurm?); set C2FNAS_SLURM_CTLD_PORT / C2FNAS_SLURM_SLURMD_PORT"; fi
  done
  local t0=$SECONDS
  rm -rf "$BASE/etc" "$BASE/state" "$BASE/spool" "$PIDS" "$LOG"
  mkdir -p "$BASE/etc" "$BASE/state" "$BASE/spool" "$PIDS" "$LOG" "$BASE/munge"
  chmod 755 "$BASE" "$BASE/etc" "$BASE/munge"
  write_conf
  [[ -s $BASE/munge/munge.key ]] || dd if=/dev/urandom of="$BASE/munge/munge.key" bs=1 count=1024 status=none
  chmod 600 "$BASE/munge/munge.key"
  rm -f "$SOCK" "$SOCK.lock"
  munged -S "$SOCK" --origin=127.0.0.1 --key-file="$BASE/munge/munge.key" --pid-file="$PIDS/munged.pid" \
    --log-file="$LOG/munged.log" --seed-file="$BASE/munge/seed" || { logs; die "munged did not start"; }
  poll 10 bash -c "munge -S '$SOCK' -n | unmunge -S '$SOCK' >/dev/null 2>&1" || { logs; die "munge credentials do not round-trip"; }
  slurmctld -f "$CONF" || { logs; die "slurmctld did not start"; }
  poll 30 ctld_up || { logs; die "slurmctld does not answer"; }
  slurmd -f "$CONF" || { logs; die "slurmd did not start"; }
  poll 60 node_idle || { SLURM_CONF=$CONF sinfo -N -l >&2 || true; logs; die "node $(hostname -s) never became idle"; }
  say "up in $((SECONDS - t0)) s (logs in $LOG)"
}

# stop_pid FILE: SIGTERM the recorded process, SIGKILL after 20 s
stop_pid() {
  pid_alive "$1" || { rm -f "$1"; return 0; }
  local p; p=$(cat "$1")
  kill -TERM "$p" 2>/dev/null || true
  poll 20 bash -c "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null || true
  rm -f "$1"
}

stop() {
  if pid_alive "$PIDS/slurmctld.pid"; then
    local ids; ids=$(SLURM_CONF=$CONF squeue -h -o %A 2>/dev/null || true)
    if [[ -n $ids ]]; then
      SLURM_CONF=$CONF scancel $ids 2>/dev/null || true
      poll 20 bash -c "[[ -z \$(SLURM_CONF='$CONF' squeue -h -t R,CG -o %A 2>/dev/null) ]]" || say "jobs still running after 20 s"
    fi
  fi
  stop_pid "$PIDS/slurmd.pid"; stop_pid "$PIDS/slurmctld.pid"; stop_pid "$PIDS/munged.pid"
  rm -f "$SOCK" "$SOCK.lock"
  say "stopped"
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
