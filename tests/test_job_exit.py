"""A script job ends at the end of its `log_to` block: outputs, log and exit handlers intact."""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"


@pytest.mark.parametrize("adapter", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.name)
def test_every_adapter_ends_with_its_log_to_block(adapter):
    # Nothing after the block would run in a job: the process exits when the block completes.
    last = ast.parse(adapter.read_text()).body[-1]
    assert isinstance(last, ast.With), f"{adapter.name}: last statement is not `with log_to(...)`"
    assert any("log_to" in ast.unparse(item.context_expr) for item in last.items), adapter.name


def run_job(tmp_path, in_job, fail=False):
    """Run a script shaped like an adapter; `in_job` defines `snakemake` as the preamble does."""
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            f"""\
            import atexit, logging, sys
            from pathlib import Path
            sys.path.insert(0, {str(SCRIPTS)!r})
            from organomics.logs import log_to
            if {in_job}:
                snakemake = object()
            atexit.register(lambda: Path("atexit_ran").write_text("yes"))
            with log_to("job.log"):
                Path("output.tsv").write_text("a\\tb\\n")
                logging.getLogger("organomics").info("wrote the output")
                print("printed inside the block", end="")
                if {fail}:
                    raise ValueError("broken")
            Path("after_block").write_text("ran")
            """
        )
    )
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_a_job_exits_at_the_end_of_the_block_with_everything_flushed(tmp_path):
    run = run_job(tmp_path, in_job=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "output.tsv").read_text() == "a\tb\n"
    assert "wrote the output" in (tmp_path / "job.log").read_text()
    assert run.stdout == "printed inside the block"
    assert (tmp_path / "atexit_ran").read_text() == "yes"
    assert not (tmp_path / "after_block").exists()


def test_outside_a_job_the_process_goes_on(tmp_path):
    run = run_job(tmp_path, in_job=False)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "after_block").read_text() == "ran"


def test_a_failing_job_still_fails_with_its_traceback_logged(tmp_path):
    run = run_job(tmp_path, in_job=True, fail=True)
    assert run.returncode == 1
    assert "ValueError: broken" in run.stderr
    log = (tmp_path / "job.log").read_text()
    assert "ValueError: broken" in log and "Traceback" in log
    assert not (tmp_path / "after_block").exists()
    assert (tmp_path / "atexit_ran").read_text() == "yes"
