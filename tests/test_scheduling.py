"""The local run drops Snakemake's idle once-a-second scheduler passes (organomics.scheduling)."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from organomics.scheduling import cap_local_cores, drop_local_rate_limit

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
N_JOBS = 12


def fake_workflow(max_jobs, timespan, local=True):
    limiter = SimpleNamespace(max_jobs=max_jobs, timespan=timespan)
    scheduler = SimpleNamespace(job_rate_limiter=limiter)
    return SimpleNamespace(scheduler=scheduler, local_exec=local)


def test_default_limit_is_dropped_locally_only():
    local = fake_workflow(100, 1)
    assert drop_local_rate_limit(local) is True
    assert local.scheduler.job_rate_limiter is None
    cluster = fake_workflow(100, 1, local=False)
    assert drop_local_rate_limit(cluster) is False
    assert cluster.scheduler.job_rate_limiter is not None


def test_a_limit_the_user_chose_is_kept():
    chosen = fake_workflow(10, 1)
    assert drop_local_rate_limit(chosen) is False
    assert chosen.scheduler.job_rate_limiter is not None
    assert drop_local_rate_limit(SimpleNamespace(scheduler=None, local_exec=True)) is False


def scheduler_passes(tmp_path, hook):
    """Snakemake's job-selection passes (its 'Ready jobs' debug lines) for N_JOBS 1-second jobs
    on 1 core, with or without the onstart hook."""
    onstart = "onstart:\n    drop_local_rate_limit(workflow)\n" if hook else ""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        textwrap.dedent(
            f"""\
            import sys
            sys.path.insert(0, {str(SCRIPTS)!r})
            from organomics.scheduling import drop_local_rate_limit

            rule all:
                input: expand("out/{{i}}.txt", i=range({N_JOBS}))

            rule one:
                output: "out/{{i}}.txt"
                shell: "sleep 1; touch {{output}}"
            """
        )
        + onstart
    )
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory", str(tmp_path),
         "--cores", "1", "--verbose", "--workflow-profile", "none"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(list((tmp_path / "out").iterdir())) == N_JOBS
    return len(re.findall(r"^Ready jobs", run.stderr, flags=re.MULTILINE))


@pytest.mark.parametrize("hook", [False, True])
def test_scheduler_passes_with_and_without_the_hook(tmp_path, hook):
    passes = scheduler_passes(tmp_path, hook)
    if hook:
        # One pass at the start and at most one per finished job: nothing else wakes it.
        assert passes <= N_JOBS + 1
    else:
        # Snakemake 9.27 itself: after k finished jobs, k timers wake it every second, so 12
        # one-second jobs give at least 12 * 11 / 2 = 66 timer passes (79 measured, with ~1 s
        # of Snakemake's own work per job). If this fails, Snakemake no longer does that and
        # organomics.scheduling can go.
        assert passes > 3 * N_JOBS


def fake_parse(cores, nodes=None, main=True):
    resources = {"_cores": SimpleNamespace(value=cores), "_nodes": SimpleNamespace(value=nodes)}
    return SimpleNamespace(is_main_process=main, global_resources=resources)


def test_cores_are_capped_only_for_a_local_run_asking_more_than_the_cpus():
    assert cap_local_cores(fake_parse(8), cpus=2) == 8
    assert cap_local_cores(fake_parse(2), cpus=2) is None  # exactly the CPUs: left alone
    assert cap_local_cores(fake_parse(1), cpus=2) is None
    assert cap_local_cores(fake_parse(None), cpus=2) is None  # no --cores (a dry run)
    assert cap_local_cores(fake_parse(8, nodes=10), cpus=2) is None  # cluster submission
    assert cap_local_cores(fake_parse(8, main=False), cpus=2) is None  # a job's own parse


def overlap_and_threads(tmp_path, cap, cores="8"):
    """Most jobs running at once, and each job's threads, for 6 one-second jobs that ask for
    4 threads, run with --cores 8 on a Snakefile that caps the cores at 2 CPUs (or does not)."""
    snakefile = tmp_path / "Snakefile"
    hook = "cap_local_cores(workflow, cpus=2)\n" if cap else ""
    snakefile.write_text(
        textwrap.dedent(
            f"""\
            import sys
            sys.path.insert(0, {str(SCRIPTS)!r})
            from organomics.scheduling import cap_local_cores
            """
        )
        + hook
        + textwrap.dedent(
            """
            rule all:
                input: expand("out/{i}.txt", i=range(6))

            rule one:
                output: "out/{i}.txt"
                threads: 4
                shell:
                    "date +%s.%N > {output}; sleep 1; date +%s.%N >> {output}; "
                    "echo {threads} >> {output}"
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory", str(tmp_path),
         "--cores", cores, "--workflow-profile", "none"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    spans, threads = [], set()
    for path in (tmp_path / "out").iterdir():
        start, end, used = path.read_text().split()
        spans.append((float(start), float(end)))
        threads.add(int(used))
    most = max(sum(s <= t < e for s, e in spans) for t, _ in spans)
    return most, threads


@pytest.mark.parametrize("cap", [False, True])
def test_capped_run_has_at_most_the_cpus_busy(tmp_path, cap):
    most, threads = overlap_and_threads(tmp_path, cap)
    if cap:
        assert threads == {2}  # the job's threads follow the capped cores
        assert most == 1  # 2 cores, 2 threads each: one job at a time
    else:
        assert threads == {4}
        assert most == 2  # Snakemake alone: 8 cores hold two 4-thread jobs
