"""No command shows a user a Python traceback: an error nobody planned for is one line
naming a log file that holds the traceback (exit 2); an interrupt is one line (exit 130).
Real `keepwell` processes throughout."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# SQLAlchemy has no such driver: it raises NoSuchModuleError, which no command maps to
# a message of its own. The password must not reach the log.
UNKNOWN_DRIVER = "postgresql+nosuchdriver://ana:s3cret-pw@127.0.0.1:1/desk"


def keepwell(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keepwell", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )


def logged(stderr: str) -> Path:
    match = re.fullmatch(
        r"keepwell: unexpected error \(NoSuchModuleError: [^\n]*\); details in (\S+\.log)\n",
        stderr,
    )
    assert match, stderr
    return Path(match.group(1))


def test_an_unexpected_error_is_one_line_and_a_log_with_the_traceback(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    done = keepwell("agenda", "--database", UNKNOWN_DRIVER, env={"KEEPWELL_LOG_DIR": str(logs)})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    log = logged(done.stderr)
    assert log.parent == logs and log.is_file()
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "sqlalchemy.exc.NoSuchModuleError" in text
    assert "command: " in text and "agenda --database postgresql+nosuchdriver://ana:***@" in text
    assert "s3cret-pw" not in text
    assert oct(log.stat().st_mode & 0o777) == "0o600"  # it may quote the user's data


def test_without_a_writable_log_directory_the_log_goes_to_the_temporary_one(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = keepwell(
        "doctor",
        "--database",
        UNKNOWN_DRIVER,
        env={"KEEPWELL_LOG_DIR": str(blocked / "logs"), "TMPDIR": str(temp)},
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    log = logged(done.stderr)
    assert log.parent == temp and "NoSuchModuleError" in log.read_text()


def test_expected_errors_stay_one_line_with_exit_1(tmp_path: Path) -> None:
    done = keepwell(
        "agenda", "--database", str(tmp_path / "new.db"), env={"KEEPWELL_LOG_DIR": str(tmp_path)}
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "run `keepwell init` first" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.log"))  # nothing unexpected, nothing logged


def blocked_reading_stdin(pid: int) -> bool:
    try:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc")
def test_an_interrupt_is_one_line_and_exit_130(tmp_path: Path) -> None:
    database = tmp_path / "kw.db"
    assert keepwell("init", "--database", str(database), env={}).returncode == 0
    command = ["user", "add", "ana@example.com", "--password-stdin", "--database", str(database)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "keepwell", *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KEEPWELL_LOG_DIR": str(tmp_path)},
    )
    deadline = time.monotonic() + 60
    while not blocked_reading_stdin(proc.pid):  # waiting for the password
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command never read its standard input"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "keepwell: interrupted; nothing was committed by the interrupted step\n"
    assert out == ""
    assert not list(tmp_path.glob("*.log"))
