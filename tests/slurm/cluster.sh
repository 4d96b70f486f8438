#!/usr/bin/env bash
# A real, throw-away, single-node SLURM cluster for integration tests (Debian 12, slurm 22.05).
#
#   tests/slurm/cluster.sh install        apt-get install slurmctld slurmd slurm-client munge (root)
#   tests/slurm/cluster.sh start DIR      start munged, slurmctld and slurmd; everything lives in DIR
#   tests/slurm/cluster.sh stop DIR       cancel jobs, stop the daemons started in DIR, remove DIR
#   tests/slurm/cluster.sh check          exit 0 if this machine can run the cluster, else say why
#
# The cluster is self-contained: its config, state, logs, pid files and munge key/socket live in
# DIR and its ports are picked free at start-up, so it touches neither /etc/slurm nor /etc/munge
# and several test runs can coexist. Clients find it through SLURM_CONF: `start` writes DIR/env
# (SLURM_CONF=DIR/etc/slurm.conf, and DIR/bin first on PATH); source it before using the cluster.
#
# Node: this machine (`hostname -s`), all its CPUs, 95% of its RAM, and one FAKE GPU
# (GresTypes=gpu, Gres=gpu:1, gres.conf File=/dev/null): `sbatch --gpus=1` is accepted and
# scheduled, and the job gets CUDA_VISIBLE_DEVICES, although there is no GPU. Partitions: `cpu`
# (default) and `gpu`, both on that node, named like the ones in profiles/slurm/partitions.yaml.
# No accounting (no slurmdbd): use `--slurm-status-command squeue`, never sacct.
set -euo pipefail

PKGS=(slurmctld slurmd slurm-client munge)
SBIN=/usr/sbin

die() { echo "cluster.sh: $*" >&2; exit 1; }

cmd_check() {
  [ "$(id -u)" -eq 0 ] || { echo "not root: slurmd and munged must be started as root"; return 1; }
  local b
  for b in "$SBIN/slurmctld" "$SBIN/slurmd" "$SBIN/munged" /usr/bin/sbatch /usr/bin/squeue \
           /usr/bin/scontrol /usr/bin/sinfo /usr/bin/srun; do
    [ -x "$b" ] || { echo "$b not installed (run: sudo tests/slurm/cluster.sh install)"; return 1; }
  done
  id munge >/dev/null 2>&1 || { echo "user 'munge' missing (broken munge install)"; return 1; }
  echo "ok"
}

cmd_install() {
  [ "$(id -u)" -eq 0 ] || die "install needs root"
  command -v apt-get >/dev/null || die "no apt-get: install ${PKGS[*]} with your package manager"
  export DEBIAN_FRONTEND=noninteractive
  local t0=$SECONDS apt=(apt-get -q -y -o Dpkg::Use-Pty=0 -o APT::Install-Recommends=false)
  # Try with the existing package lists first; refresh them only if that fails (fresh images).
  if ! timeout 120 "${apt[@]}" install "${PKGS[@]}" >/tmp/seq2func-slurm-apt.log 2>&1; then
    timeout 120 apt-get -q update >>/tmp/seq2func-slurm-apt.log 2>&1 \
      && timeout 180 "${apt[@]}" install "${PKGS[@]}" >>/tmp/seq2func-slurm-apt.log 2>&1 \
      || { tail -20 /tmp/seq2func-slurm-apt.log >&2; die "apt-get install ${PKGS[*]} failed"; }
  fi
  echo "installed ${PKGS[*]} in $((SECONDS - t0)) s ($("$SBIN/slurmctld" -V))"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.2
  done
}

cmd_start() {
  local dir=${1:?usage: cluster.sh start DIR}
  local why
  why=$(cmd_check) || die "$why"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ ! -e "$dir/.seq2func-slurm-test" ] || die "$dir already holds a cluster (stop it first)"
  chmod 755 "$dir"
  mkdir -p "$dir"/{etc,state,spool,log,run,munge}
  touch "$dir/.seq2func-slurm-test"
  # from here on, a failure stops whatever was started (the logs are printed first)
  # shellcheck disable=SC2064
  trap "cmd_stop '$dir' >/dev/null 2>&1 || true" ERR EXIT

  # munge: private key (0700 dir) and a socket clients can reach (0755 dir), run as the munge
  # user like the packaged service
  mkdir -p "$dir/munge/private"
  chown -R munge:munge "$dir/munge"
  chmod 755 "$dir/munge"
  chmod 700 "$dir/munge/private"
  local key="$dir/munge/private/munge.key" sock="$dir/munge/munge.socket"
  dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  chown munge:munge "$key"
  chmod 400 "$key"
  runuser -u munge -- "$SBIN/munged" --socket="$sock" --key-file="$key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/private/munged.log" \
    --seed-file="$dir/munge/private/munged.seed" \
    || die "munged failed: $(tail -3 "$dir/munge/private/munged.log" 2>/dev/null)"

  local host cpus mem ctld_port slurmd_port gpus=1
  host=$(hostname -s)
  cpus=$(nproc)
  # a little below what slurmd measures, else the node drains with "Low RealMemory"
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.95)}' /proc/meminfo)
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done

  cat >"$dir/etc/slurm.conf" <<EOF
# Throw-away single-node test cluster written by tests/slurm/cluster.sh
ClusterName=seq2functest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
# completed jobs stay visible to scontrol show job for the whole test session: the demo
# run through SLURM takes over 5 minutes and the tests check every job's state at its end
MinJobAge=3600
DefMemPerCPU=1000
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:$gpus State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
  # a fake GPU: a device file must be named, else the node drains ("gres count too low")
  echo "NodeName=$host Name=gpu File=/dev/null" >"$dir/etc/gres.conf"

  # snakemake-executor-plugin-slurm-jobstep (0.6) strips every SLURM_* variable, SLURM_CONF
  # included, before its inner `srun`; clusters keep slurm.conf where clients find it without
  # SLURM_CONF, this one does not. So jobs get an `srun` that sets it again (PATH is kept).
  mkdir -p "$dir/bin"
  printf '#!/bin/sh\nSLURM_CONF=%s exec /usr/bin/srun "$@"\n' "$dir/etc/slurm.conf" >"$dir/bin/srun"
  chmod 755 "$dir/bin/srun"
  printf 'export SLURM_CONF=%s\nexport PATH=%s:$PATH\n' "$dir/etc/slurm.conf" "$dir/bin" \
    >"$dir/env"
  export SLURM_CONF="$dir/etc/slurm.conf"
  "$SBIN/slurmctld" -i -f "$SLURM_CONF" \
    || die "slurmctld failed: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
  wait_for 30 "slurmctld" scontrol ping \
    || die "slurmctld does not answer: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
  "$SBIN/slurmd" -f "$SLURM_CONF" -N "$host" \
    || die "slurmd failed: $(tail -5 "$dir/log/slurmd.log" 2>/dev/null)"
  node_idle() { sinfo -h -N -n "$host" -o %t | grep -qx idle; }
  wait_for 60 "node idle" node_idle || {
    sinfo -N -l >&2 || true
    tail -5 "$dir/log/slurmd.log" "$dir/log/slurmctld.log" >&2 || true
    die "node $host did not become idle"
  }
  trap - ERR EXIT
  echo "SLURM test cluster up: $host, $cpus CPUs, ${mem} MB, gpu:$gpus (fake), partitions cpu,gpu"
  echo "  ports $ctld_port/$slurmd_port; config $SLURM_CONF (source $dir/env)"
}

kill_pidfile() {  # kill_pidfile FILE NAME: stop a daemon we started, wait for it to exit
  local f=$1 pid i
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_stop() {
  local dir=${1:?usage: cluster.sh stop DIR}
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  [ -e "$dir/.seq2func-slurm-test" ] || die "$dir is not a test cluster directory"
  if [ -s "$dir/run/slurmctld.pid" ]; then
    SLURM_CONF="$dir/etc/slurm.conf" timeout 20 scancel --full --quiet --user=root 2>/dev/null || true
  fi
  kill_pidfile "$dir/run/slurmd.pid"
  kill_pidfile "$dir/run/slurmctld.pid"
  kill_pidfile "$dir/munge/munged.pid"
  rm -rf "$dir"
  echo "SLURM test cluster in $dir stopped and removed"
}

case "${1:-}" in
  install) cmd_install ;;
  check) cmd_check ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
