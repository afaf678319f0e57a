#!/usr/bin/env bash
# Start a one-node SLURM cluster on localhost for tests/cluster/test_slurm.py (Debian/Ubuntu, root).
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge (skipped when already installed),
# writes /etc/slurm/slurm.conf for one node called "localhost" with one partition "main",
# starts munged, slurmctld and `slurmd -N localhost`, and checks `srun hostname`. About 10 s once
# the packages are installed. Stop everything with tests/cluster/stop_slurm.sh.
#
# Environment:
#   SLURM_CI_DIR       state, spool, log and pid files (default /tmp/organomics-slurm)
#   WITH_SLURMDBD=1    also install mariadb + slurmdbd so that `sacct` works (default 0)
#   NODE_CPUS, NODE_MEM_MB  advertise a bigger node than the machine has (nothing is enforced,
#                      jobs oversubscribe); a job asking for more CPUs than the node has would
#                      stay PENDING forever
#
# Exit status 3: /etc/slurm/slurm.conf exists and was not written by this script (a real cluster
# configuration): nothing is changed.
set -euo pipefail
D=${SLURM_CI_DIR:-/tmp/organomics-slurm}
WITH_SLURMDBD=${WITH_SLURMDBD:-0}
MARKER="# written by organomics tests/cluster/start_slurm.sh"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
  echo "start_slurm.sh: needs root (apt-get, daemons, /etc/slurm)" >&2; exit 2
fi
if [ -e /etc/slurm/slurm.conf ] && ! grep -qxF "$MARKER" /etc/slurm/slurm.conf; then
  echo "start_slurm.sh: /etc/slurm/slurm.conf belongs to another SLURM setup; not touching it" >&2
  exit 3
fi

# --- packages (only when missing: repeated runs need no network) --------------
need=(slurmctld slurmd sinfo munged)
pkgs=(slurmctld slurmd slurm-client munge)
if [ "$WITH_SLURMDBD" = 1 ]; then
  need+=(slurmdbd mariadbd); pkgs+=(slurmdbd mariadb-server)
fi
missing=0
for tool in "${need[@]}"; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing=1
done
if [ "$missing" = 1 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

mkdir -p "$D"/{state,spool,log}
# pid files of the daemons this script started; stop_slurm.sh stops only those
STARTED="$D/started"
touch "$STARTED"
started() { grep -qxF "$1" "$STARTED" || echo "$1" >>"$STARTED"; }

# --- munge (authentication between the daemons and the client commands) -------
if [ ! -s /etc/munge/munge.key ]; then   # Debian's postinst normally creates it
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged        # daemonizes, pid in /run/munge/munged.pid
  started /run/munge/munged.pid
fi
for _ in $(seq 50); do munge -n | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
munge -n | unmunge >/dev/null

# --- slurm.conf ---------------------------------------------------------------
CPUS=${NODE_CPUS:-$(nproc)}
MEM=${NODE_MEM_MB:-$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)}
ACCT_LINES="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
if [ "$WITH_SLURMDBD" = 1 ]; then
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
fi
mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
$MARKER
ClusterName=organomics-ci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
MailProg=/bin/true
# trust the NodeName line below instead of the detected hardware
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerType=sched/backfill
MpiDefault=none
JobCompType=jobcomp/none
$ACCT_LINES
ReturnToService=2
# keep finished jobs visible to squeue/scontrol for 10 min: the profile's status command is
# squeue, and the test reads the finished jobs' states back
MinJobAge=600
DefMemPerCPU=500
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# --- optional accounting: mariadb + slurmdbd ----------------------------------
if [ "$WITH_SLURMDBD" = 1 ]; then
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  if ! mariadb -e 'select 1' >/dev/null 2>&1; then
    setsid /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
      --pid-file=/run/mysqld/mysqld.pid >"$D/log/mariadb.log" 2>&1 </dev/null &
    started /run/mysqld/mysqld.pid
  fi
  for _ in $(seq 100); do mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$D/log/slurmdbd.log
PidFile=$D/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
CONF
  chmod 600 /etc/slurm/slurmdbd.conf
  if ! { [ -s "$D/slurmdbd.pid" ] && kill -0 "$(cat "$D/slurmdbd.pid")" 2>/dev/null; }; then
    slurmdbd                                 # daemonizes
    started "$D/slurmdbd.pid"
  fi
  for _ in $(seq 100); do
    [ -s "$D/slurmdbd.pid" ] && grep -q "slurmdbd version" "$D/log/slurmdbd.log" 2>/dev/null && break
    sleep 0.2
  done
fi

# --- slurmctld + slurmd (daemon mode, pid files in $D) --------------------------
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if running "$D/slurmctld.pid"; then scontrol reconfigure; else slurmctld; fi
running "$D/slurmd.pid" || slurmd -N localhost   # NodeName is "localhost", not the hostname
started "$D/slurmctld.pid"
started "$D/slurmd.pid"
for _ in $(seq 150); do
  sinfo -h -n localhost -o %t 2>/dev/null | grep -qx idle && break; sleep 0.2
done
sinfo
sinfo -h -n localhost -o %t | grep -qx idle || { tail -n 30 "$D"/log/*.log; exit 1; }
srun -t 1 hostname >/dev/null
echo "SLURM ready (partition main, accounting: $WITH_SLURMDBD, state in $D)"
