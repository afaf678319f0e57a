#!/usr/bin/env bash
# Stop the daemons tests/cluster/start_slurm.sh started, by pid file (never by process name):
# slurmd, slurmctld, then slurmdbd, mariadb and munged only if that script started them; then
# remove the slurm.conf that script wrote.
D=${SLURM_CI_DIR:-/tmp/organomics-slurm}
STARTED="$D/started"
[ -s "$STARTED" ] || exit 0
if grep -qxF "$D/slurmctld.pid" "$STARTED"; then
  mapfile -t jobs < <(squeue -h -o %i 2>/dev/null || true)
  if [ "${#jobs[@]}" -gt 0 ]; then scancel "${jobs[@]}"; sleep 3; fi
fi
stop() {  # $1 = pid file
  grep -qxF "$1" "$STARTED" && [ -s "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}
# reverse start order: the node, the controller, accounting, then authentication
stop "$D/slurmd.pid"
stop "$D/slurmctld.pid"
stop "$D/slurmdbd.pid"
stop /run/mysqld/mysqld.pid
stop /run/munge/munged.pid
rm -f "$STARTED"
# Our slurm.conf goes with the daemons: while it names a controller that is down, every
# `scontrol` waits 10 s for it, and so does every snakemake start with the SLURM plugin
# installed (the plugin runs `scontrol show config` when it is imported).
MARKER="# written by organomics tests/cluster/start_slurm.sh"
if [ -e /etc/slurm/slurm.conf ] && grep -qxF "$MARKER" /etc/slurm/slurm.conf; then
  rm -f /etc/slurm/slurm.conf
fi
exit 0
