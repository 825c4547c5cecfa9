#!/usr/bin/env bash
# A private single-node SLURM on this machine, for tests/test_slurm.py and for trying the
# job scripts in jobs/ (root only; Debian's slurm-wlm and munge, see scripts/setup_env.sh).
#
#   scripts/slurm_local.sh start DIR   # write DIR/slurm.conf, start munged, slurmctld, slurmd
#   scripts/slurm_local.sh stop DIR    # cancel DIR's jobs, stop its daemons (always safe)
#   export SLURM_CONF=DIR/slurm.conf   # then sbatch, squeue, scontrol talk to this cluster
#
# Everything lives under DIR: the config, a fresh munge key and munge socket, the state and
# spool directories, the logs and the pid files; /etc/slurm and /etc/munge are not read or
# written, so a real site SLURM on the machine is left alone.  The ports are free ones
# (SLURM_LOCAL_PORTS="ctld slurmd" chooses them).  The node is this host at 127.0.0.1 with
# its own CPUs and memory (slurmd -C); ProctrackType=proctrack/linuxproc and
# TaskPlugin=task/none need no cgroups (containers); SelectType=select/cons_tres; no
# accounting storage: a job's final state comes from `scontrol show job` (finished jobs are
# kept MinJobAge = 600 s) or DIR/jobcomp.txt (jobcomp/filetxt).  KillWait is 5 s.
#
# `start` waits up to SLURM_LOCAL_TIMEOUT seconds (default 30) for the node to be idle and
# exits 0; otherwise it stops what it started, prints the logs' tails and exits 1.
# Exit 2: bad arguments, not root, or the SLURM/munge binaries are missing.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
action="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
timeout_s="${SLURM_LOCAL_TIMEOUT:-30}"
log() { printf '[slurm_local] %s\n' "$*" >&2; }

pid_of() { [[ -s "$1" ]] && cat "$1" 2>/dev/null || true; }

# stop one daemon named by its pid file (only that process: never by name)
stop_pid_file() {
    local f="$1" pid i
    pid="$(pid_of "$f")"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

# slurmstepd processes of this cluster: the ones holding a file under DIR (their spool socket)
own_stepds() {
    local p
    for p in /proc/[0-9]*; do
        [[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" == slurmstepd* ]] || continue
        if ls -l "$p/fd" 2>/dev/null | grep -qF -- "$dir/"; then
            echo "${p#/proc/}"
        fi
    done
}

# every descendant of the given processes (the job's shell, mpirun, the ranks)
descendants() {
    ps -eo pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
        { parent[$1] = $2 }
        END {
            do {
                grown = 0
                for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grown = 1 }
            } while (grown)
            for (i = 1; i <= n; i++) delete keep[r[i]]
            for (p in keep) printf "%s ", p
        }'
}

do_stop() {
    local i pids
    if [[ -f "$dir/slurm.conf" ]] && kill -0 "$(pid_of "$dir/slurmctld.pid")" 2>/dev/null; then
        SLURM_CONF="$dir/slurm.conf" timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do  # jobs end within KillWait (5 s)
            [[ -z "$(SLURM_CONF="$dir/slurm.conf" timeout 5 squeue -h -o %i 2>/dev/null)" ]] && break
            sleep 0.2
        done
    fi
    stop_pid_file "$dir/slurmd.pid"
    stop_pid_file "$dir/slurmctld.pid"
    pids="$(own_stepds)"
    if [[ -n "$pids" ]]; then
        # shellcheck disable=SC2086
        pids="$(descendants $pids) $pids"
        log "killing what is left of this cluster's jobs: $pids"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
    fi
    stop_pid_file "$dir/munge/munged.pid"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

do_start() {
    if [[ $(id -u) -ne 0 ]]; then
        log "needs root (the daemons run as root here)"; exit 2
    fi
    local b
    for b in munged slurmctld slurmd sbatch scontrol; do
        command -v "$b" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
        command -v "$b" >/dev/null 2>&1 || { log "$b not found (scripts/setup_env.sh installs slurm-wlm and munge as root)"; exit 2; }
    done
    do_stop  # a previous start in the same DIR
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    chmod 0700 "$dir/munge" "$dir/state" "$dir/spool"
    # munged refuses group/world-writable directories on its paths unless they are sticky
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chmod 0600 "$dir/munge/munge.key"
    local sock="$dir/munge/munge.socket.2"
    munged --force --key-file="$dir/munge/munge.key" --socket="$sock" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed"

    local ctld_port slurmd_port host hw
    read -r ctld_port slurmd_port <<<"${SLURM_LOCAL_PORTS:-$(free_port) $(free_port)}"
    host="$(hostname -s)"
    # the node as slurmd sees the hardware (CPUs, sockets, cores, threads, memory)
    hw="$(slurmd -C 2>/dev/null | sed -n 's/^NodeName=[^ ]* //p' | head -n 1)"
    [[ -n "$hw" ]] || hw="CPUs=$(nproc)"
    cat >"$dir/slurm.conf" <<EOF
# written by scripts/slurm_local.sh: a private single-node cluster under $dir
ClusterName=galproplocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$dir/slurm.conf"
    slurmctld -c -i -f "$SLURM_CONF"
    slurmd -c -f "$SLURM_CONF" -N "$host"
    local t0=$SECONDS state=""
    while ((SECONDS - t0 < timeout_s)); do
        state="$(timeout 5 sinfo -h -n "$host" -o %t 2>/dev/null || true)"
        if [[ "$state" == idle* ]]; then
            echo "SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 0.5
    done
    log "node not idle after ${timeout_s} s (state '${state}'); logs:"
    tail -n 20 "$dir/munge/munged.log" "$dir/slurmctld.log" "$dir/slurmd.log" >&2 2>/dev/null || true
    do_stop
    exit 1
}

case "$action" in
    start) do_start ;;
    stop) do_stop ;;
    *) usage ;;
esac
