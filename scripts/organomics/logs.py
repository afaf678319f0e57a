"""Route a job's logging, warnings and tracebacks into its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

from organomics.errors import InputError


@contextlib.contextmanager
def log_to(path: str | Path) -> Iterator[logging.Logger]:
    """Log to `path` for the duration; an exception is written there too, then re-raised."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            yield logging.getLogger("organomics")
    except InputError as error:
        # Bad input, not a bug: the message names file, row and column; a stack would only
        # bury it. SystemExit makes the job fail without Python printing a traceback.
        root.error("InputError: %s", error)
        print(f"InputError: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as error:
        # The short message goes first so that `tail` of the log shows what the user must fix.
        root.error("%s: %s\n%s", type(error).__name__, error, traceback.format_exc())
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        raise
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
