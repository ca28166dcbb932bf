"""What the command line does with an error no command planned for: one line and a log.

Errors Keepwell expects (bad input, a database not ready, …) are reported by each
command through `clikit.errors()` and exit 1. Anything else is a fault in Keepwell or
its surroundings: the user gets one line — what failed and where the details are — and
exit status 2; the full traceback goes to a log file in the user's log directory
(KEEPWELL_LOG_DIR overrides it). An interrupt (Ctrl-C) is one line and status 130.

Kept to the standard library (and platformdirs, read only on a fault): `keepwell
--help` imports it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from keepwell import __version__

ENV_LOG_DIR = "KEEPWELL_LOG_DIR"
EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130
_PASSWORD_IN_URL = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")
_SUMMARY_LIMIT = 240


def log_dir() -> Path:
    """Where fault logs go: KEEPWELL_LOG_DIR, else the user's log directory."""
    explicit = os.environ.get(ENV_LOG_DIR)
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir("keepwell", appauthor=False))


def summary(exc: BaseException) -> str:
    """The exception on one short line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    text = _PASSWORD_IN_URL.sub(r"\1***@", text)
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 1] + "…"


def write_log(exc: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the traceback to a new file (the log directory, else the temporary one)."""
    now = datetime.now().astimezone()
    command = " ".join(_PASSWORD_IN_URL.sub(r"\1***@", arg) for arg in argv)
    text = (
        f"keepwell {__version__} (Python {platform.python_version()}, {platform.platform()})\n"
        f"time: {now.isoformat(timespec='seconds')}\n"
        f"command: {command}\n\n" + "".join(traceback.format_exception(exc))
    )
    for directory in (log_dir(), Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(  # private to the user: it may quote their data
                prefix=f"error-{now:%Y%m%d-%H%M%S}-", suffix=".log", dir=directory
            )
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError:
            continue
        return Path(name)
    return None


def report(exc: BaseException) -> int:
    """Log the fault, tell the user in one line, and give the exit status."""
    try:
        path = write_log(exc, sys.argv)
    except Exception:  # the report itself must not end in a traceback
        path = None
    where = f"details in {path}" if path else "no log file could be written"
    _say(f"keepwell: unexpected error ({summary(exc)}); {where}")
    return EXIT_UNEXPECTED


def interrupted() -> None:
    _say("keepwell: interrupted; nothing was committed by the interrupted step")


def _say(line: str) -> None:
    with contextlib.suppress(OSError):  # stderr gone (a closed pipe): the status still tells
        print(line, file=sys.stderr, flush=True)
