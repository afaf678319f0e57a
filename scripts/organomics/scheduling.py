"""Local runs: no idle scheduler passes, and no more cores than the machine has CPUs."""

import os

# Snakemake's CLI default for --max-jobs-per-timespan ("100/1s").
DEFAULT_MAX_JOBS = 100
DEFAULT_TIMESPAN_S = 1


def drop_local_rate_limit(workflow):
    """Remove the job-rate limiter of a local run that uses Snakemake's default limit.

    Snakemake 9.27's scheduler arms a timer of the rate limiter's timespan (1 s by default) on
    every pass, and every finished job starts a pass of its own. Each finished job therefore
    adds a timer chain that never stops: after k finished jobs the scheduler runs about k passes
    a second, each checking every ready job's inputs on disk. On the demo (172 jobs) that cost
    the Snakemake process ~20-50 of its ~50-90 CPU seconds while 2 cores ran the jobs (upstream:
    snakemake/snakemake#3744). A local run's job rate is bounded by its cores, so dropping the
    limiter changes only the idle passes. A limit other than the default (the user asked for
    it) and cluster executors (where it paces submissions) keep the limiter.

    Parameters
    ----------
    workflow : snakemake.workflow.Workflow
        The running workflow, from an ``onstart:`` handler (its scheduler exists by then).

    Returns
    -------
    bool
        True when the limiter was removed.
    """
    scheduler = getattr(workflow, "scheduler", None)
    limiter = getattr(scheduler, "job_rate_limiter", None)
    if limiter is None or not workflow.local_exec:
        return False
    if (limiter.max_jobs, limiter.timespan) != (DEFAULT_MAX_JOBS, DEFAULT_TIMESPAN_S):
        return False
    scheduler.job_rate_limiter = None
    return True


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: cgroup cpusets, `taskset`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no affinity mask
        return os.cpu_count() or 1


def cap_local_cores(workflow, cpus: int | None = None) -> int | None:
    """Run a local workflow on at most as many cores as the machine has CPUs.

    Every job here is CPU-bound, so `--cores` beyond the CPUs only runs more jobs at once on
    the same CPUs, and they slow each other down. On the 2-CPU machine of the benchmarks the demo
    took 279 CPU s and 2 min 24 s with `--cores 2`, and 326-371 CPU s and 2 min 53 s to 3 min
    20 s with `--cores 8`: the contention cost a quarter more CPU time, and Snakemake's own
    process 11 -> 18 CPU s. Called while the Snakefile is parsed, before the DAG caps each job's
    threads at the cores. Cluster submission (`--jobs`), job processes and a `--cores` within
    the CPUs are left alone.

    Parameters
    ----------
    workflow : snakemake.workflow.Workflow
        The workflow being parsed.
    cpus
        The CPUs available; `usable_cpus()` when None.

    Returns
    -------
    int or None
        The cores asked for, when they were lowered to `cpus`; None when left alone.
    """
    if not workflow.is_main_process or workflow.global_resources["_nodes"].value is not None:
        return None
    asked = workflow.global_resources["_cores"].value
    cpus = usable_cpus() if cpus is None else cpus
    if asked is None or asked <= cpus:
        return None
    workflow.global_resources["_cores"] = cpus
    return asked
