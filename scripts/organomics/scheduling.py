"""Keep Snakemake's local scheduler from waking up once a second per finished job."""

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
