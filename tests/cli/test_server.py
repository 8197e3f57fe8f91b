"""``koken server``: a command handed to the resident server gives what it gives when run in its own process (the
same result bytes, console text, exit status, language), a client of another koken is declined, and a bundled file
changed after the server loaded it is never answered from memory (koken.cli.client, koken.cli.server)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from koken.results import without_created

REPO = Path(__file__).resolve().parents[2]
KOKEN = [sys.executable, "-c", "import sys; sys.argv[0] = 'koken'; from koken.cli import run; run()"]  # as ``koken`` runs
EXAMPLE = REPO / "examples" / "portfolio_fy2023.csv"

pytestmark = pytest.mark.skipif(not hasattr(socket, "send_fds") or not hasattr(os, "fork"),
                                reason="koken server needs POSIX (Unix sockets that pass descriptors, fork)")


def _koken(env: dict, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*KOKEN, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def _commands_run(env: dict) -> int:
    done = _koken(env, "server", "status")
    assert done.returncode == 0, done.stdout + done.stderr
    return int(done.stdout.split("\n")[1].split()[0])


@pytest.fixture()
def server_env():
    """An environment whose start-up cache folder (short: a socket's path is at most 100 bytes) is this test's own;
    the server started in it is stopped at the end."""
    folder = Path(tempfile.mkdtemp(prefix="ks-"))
    os.chmod(folder, 0o700)
    env = {**os.environ, "KOKEN_CACHE_DIR": str(folder), "KOKEN_LANG": "en",
           "PYTHONPATH": os.pathsep.join([str(REPO / "engine"), os.environ.get("PYTHONPATH", "")])}
    env.pop("KOKEN_NO_SERVER", None)
    yield env
    _koken(env, "server", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def test_a_command_the_server_runs_gives_what_it_gives_in_its_own_process(server_env, tmp_path):
    here = {**server_env, "KOKEN_NO_SERVER": "1"}
    assert _koken(server_env, "server", "status").returncode == 1  # none yet
    started = _koken(server_env, "server", "start", "--idle", "300")
    assert started.returncode == 0, started.stderr
    assert "koken server running" in started.stdout

    served = _koken(server_env, "calculate", str(EXAMPLE), "-o", "served.json", cwd=tmp_path)
    alone = _koken(here, "calculate", str(EXAMPLE), "-o", "alone.json", cwd=tmp_path)
    assert served.returncode == alone.returncode == 0, served.stderr + alone.stderr
    assert _commands_run(server_env) == 1  # the first command was the server's; the second ran in its own process
    ja = _koken(server_env, "--lang", "ja", "server", "status")
    assert ja.returncode == 0 and "実行中" in ja.stdout
    assert _commands_run(server_env) == 1  # `server …` runs in its own process, whatever options come before it
    # relative output paths are the client's working folder; the same bytes apart from the time written
    assert without_created((tmp_path / "served.json").read_bytes()) == \
        without_created((tmp_path / "alone.json").read_bytes())
    assert served.stdout.replace("served.json", "X") == alone.stdout.replace("alone.json", "X")
    assert served.stderr == alone.stderr

    # a command with problems: the same messages and exit status; in Japanese when the client asks for it
    for env_extra in ({}, {"KOKEN_LANG": "ja"}):
        bad = [_koken({**env, **env_extra}, "calculate", "missing.csv", cwd=tmp_path) for env in (server_env, here)]
        assert bad[0].returncode == bad[1].returncode == 1
        assert bad[0].stdout + bad[0].stderr == bad[1].stdout + bad[1].stderr
    assert _commands_run(server_env) == 3

    usage = [_koken(env, "calculate", "--no-such-option") for env in (server_env, here)]
    assert usage[0].returncode == usage[1].returncode == 2
    assert usage[0].stderr == usage[1].stderr

    stopped = _koken(server_env, "server", "stop")
    assert "4 commands run" in stopped.stdout
    assert _koken(server_env, "server", "status").returncode == 1
    assert not list(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.sock"))


def _ask(path: Path, message: dict, fds: list[int]) -> dict:
    """A request as koken.cli.client sends it (the length with the descriptors, then the JSON), and the answer."""
    from koken.cli.client import receive_message

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        data = json.dumps(message).encode()
        socket.send_fds(sock, [struct.pack(">I", len(data) if fds else 0)], fds)
        if not fds:
            data = struct.pack(">I", len(data)) + data
        sock.sendall(data)
        return receive_message(sock)


def test_a_client_of_another_koken_or_python_is_declined(server_env):
    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    path = next(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.sock"))
    other = {"package": "/elsewhere/koken", "version": "0.0.0", "python": "/usr/bin/python3", "prefix": "/usr"}
    null = os.open(os.devnull, os.O_RDWR)
    try:
        answer = _ask(path, {"identity": other, "argv": ["--version"], "cwd": "/", "env": {}, "umask": 0o22,
                             "streams": [{}, {}, {}]}, [null, null, null])
    finally:
        os.close(null)
    assert answer == {"declined": "another koken or Python"}
    assert _ask(path, {"control": "stop", "identity": other}, []) == {"declined": "another koken or Python"}
    assert _commands_run(server_env) == 0  # nothing was run, and the server still answers


def test_a_bundled_file_changed_after_the_server_loaded_it_is_read_again(server_env, tmp_path):
    """A copy of the engine and its data: a methodology's default edited while the server runs is not answered
    from the server's memory; the command runs in its own process with the new file, and the server starts again
    from the files."""
    copy = Path(tempfile.mkdtemp(prefix="kc-"))
    try:
        shutil.copytree(REPO / "engine" / "koken", copy / "engine" / "koken",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("methodologies", "units", "factors", "attribution", "vocabulary", "action_plan", "claims"):
            shutil.copytree(REPO / name, copy / name)
        env = {**server_env, "PYTHONPATH": os.pathsep.join([str(copy / "engine"), os.environ.get("PYTHONPATH", "")])}
        assert _koken(env, "server", "start", "--idle", "300").returncode == 0, "server did not start"
        portfolio = REPO / "examples" / "portfolio_uncertain.csv"
        first = _koken(env, "calculate", str(portfolio), "-o", "first.json", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert _commands_run(env) == 1

        # the device share of domestic home appliances (the example's lines): 232 → 300 of 1,110 (万t-CO2e)
        ratios = copy / "attribution" / "ratios_fy2023_report.yaml"
        old = "{category: home_appliances, market: domestic, device_class: devices, device: 232, total: 1110}"
        assert old in ratios.read_text(encoding="utf-8")
        ratios.write_text(ratios.read_text(encoding="utf-8").replace(old, old.replace("232", "300")), encoding="utf-8")
        second = _koken(env, "calculate", str(portfolio), "-o", "second.json", cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        alone = _koken({**env, "KOKEN_NO_SERVER": "1"}, "calculate", str(portfolio), "-o", "alone.json",
                       cwd=tmp_path)
        assert alone.returncode == 0, alone.stderr
        assert without_created((tmp_path / "second.json").read_bytes()) == \
            without_created((tmp_path / "alone.json").read_bytes())
        assert (tmp_path / "second.json").read_bytes() != (tmp_path / "first.json").read_bytes()

        deadline = time.monotonic() + 120  # the server starts again from the files and answers again
        while _koken(env, "server", "status").returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _commands_run(env) == 0
        third = _koken(env, "calculate", str(portfolio), "-o", "third.json", cwd=tmp_path)
        assert third.returncode == 0
        assert _commands_run(env) == 1  # served by the new server, with the new file
        assert without_created((tmp_path / "third.json").read_bytes()) == \
            without_created((tmp_path / "alone.json").read_bytes())
        _koken(env, "server", "stop")
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def test_a_start_while_the_server_loads_waits_for_it_and_starts_no_other(server_env):
    first = subprocess.Popen([*KOKEN, "server", "start", "--idle", "300"], env=server_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    status = _koken(server_env, "server", "status")
    while "loading koken" not in status.stdout and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        status = _koken(server_env, "server", "status")
    assert "loading koken" in status.stdout, status.stdout + status.stderr  # exit 0, with its process id
    assert status.returncode == 0
    loading = status.stdout.split("process ")[1].split(",")[0]
    second = _koken(server_env, "server", "start")
    out, err = first.communicate(timeout=120)
    assert first.returncode == second.returncode == 0, err + second.stderr
    assert f"process {loading}," in out and f"process {loading}," in second.stdout  # one server, the first
    assert "loading koken takes a few seconds" in err
    assert "already running" in _koken(server_env, "server", "start").stdout
    log = next(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.log")).read_text(encoding="utf-8")
    assert "Error" not in log, log


def _server_pid(env: dict) -> int:
    done = _koken(env, "server", "status")
    assert done.returncode == 0, done.stdout + done.stderr
    return int(re.search(r"process (\d+)", done.stdout).group(1))


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(stat.parent.name))
    return found


def _request(argv: list[str], cwd: Path, **changes) -> dict:
    from koken.cli.client import identity

    return {"identity": identity(), "argv": argv, "cwd": str(cwd), "env": {"KOKEN_LANG": "en"}, "umask": 0o22,
            "streams": [{}, {}, {}], **changes}


def test_a_request_nested_too_deep_leaves_the_server_running(server_env):
    """JSON nested too deep for the decoder (RecursionError, not a ValueError) stopped the server."""
    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    path = next(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.sock"))
    null = os.open(os.devnull, os.O_RDWR)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(path))
            data = b"[" * 100_000
            socket.send_fds(sock, [struct.pack(">I", len(data))], [null, null, null])
            sock.sendall(data)
            assert sock.recv(100) == b""  # nothing answered, nothing run
    finally:
        os.close(null)
    assert _commands_run(server_env) == 0  # the server still answers


@pytest.fixture()
def stalled(server_env):
    """A running server, and a connection to it that sends nothing (a client stopped as it connected)."""
    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    path = next(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.sock"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(path))
        yield path


def test_a_stalled_connection_does_not_hold_up_the_next_command(server_env, stalled, tmp_path):
    """The server waited 10 s for a connected client's request: every command in that time ran in its own process
    (its 2 s wait ran out). A short command, so that it ends, and is counted, before the server would reach it late."""
    served = _koken(server_env, "factors", cwd=tmp_path)
    assert served.returncode == 0, served.stderr
    assert "Traceback" not in served.stderr  # (the descriptors it passed stayed in flight until the server got them)
    assert served.stdout == _koken({**server_env, "KOKEN_NO_SERVER": "1"}, "factors", cwd=tmp_path).stdout
    assert _commands_run(server_env) == 1


def test_a_client_that_gave_up_waiting_has_its_command_neither_run_again_nor_a_traceback(server_env, stalled,
                                                                                          tmp_path):
    """A client whose 2 s wait ran out runs its command itself; when the server reached its request later, the
    forked process wrote a traceback (BrokenPipeError) on the client's stderr, or, had the client not closed yet,
    ran the command a second time."""
    errors = tmp_path / "stderr.txt"
    null = os.open(os.devnull, os.O_RDWR)
    err = os.open(errors, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(stalled))
            data = json.dumps(_request(["calculate", str(EXAMPLE), "-o", "late.json"], tmp_path)).encode()
            socket.send_fds(sock, [struct.pack(">I", len(data))], [null, null, err])
            sock.sendall(data)  # and the client gives up before any answer
    finally:
        os.close(null)
        os.close(err)
    deadline = time.monotonic() + 60
    while _commands_run(server_env) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _commands_run(server_env) == 1  # the server reached the request …
    time.sleep(3)
    assert errors.read_text() == ""  # … and wrote nothing on the client's stream
    assert not (tmp_path / "late.json").exists()  # nor ran the command


def test_a_request_the_server_cannot_take_on_is_declined_quietly(server_env, tmp_path):
    """A working folder that does not exist for the server (another mount namespace, a folder removed): the forked
    process printed a traceback on the client's stderr, then the client ran the command itself."""
    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    path = next(Path(server_env["KOKEN_CACHE_DIR"]).glob("*.sock"))
    errors = tmp_path / "stderr.txt"
    null = os.open(os.devnull, os.O_RDWR)
    err = os.open(errors, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        answer = _ask(path, _request(["--version"], tmp_path / "gone"), [null, null, err])
    finally:
        os.close(null)
        os.close(err)
    assert "declined" in answer
    assert errors.read_text() == ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the command's process in /proc (Linux)")
def test_a_client_killed_ends_its_command(server_env):
    """``kill -9`` of ``koken`` (which cannot pass SIGKILL on) left its command running in the server's fork, here
    blocked for ever writing to a pipe nobody reads; it ends now, as it would in the client's own process."""
    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    server = _server_pid(server_env)
    # trace prints about 120 kB: more than a pipe holds, so the command blocks on its stdout, which is never read
    client = subprocess.Popen([*KOKEN, "trace", str(EXAMPLE)], env=server_env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _children(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        command = _children(server)
        assert command, "the server did not take the command"
        time.sleep(2)
        client.kill()
        client.wait()
        deadline = time.monotonic() + 20
        while _children(server) & command and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _children(server) & command
    finally:
        client.kill()
        client.stdout.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the command's process in /proc (Linux)")
def test_a_signal_the_client_ignores_is_not_passed_on(server_env):
    """``nohup koken …`` (SIGHUP ignored, as SIGINT is in a script's background job): the client passed the hang-up
    on anyway, and the command, which in its own process would have gone on, was killed."""
    import signal

    assert _koken(server_env, "server", "start", "--idle", "300").returncode == 0
    server = _server_pid(server_env)
    client = subprocess.Popen([*KOKEN, "trace", str(EXAMPLE)], env=server_env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 60
        while not _children(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _children(server), "the server did not take the command"  # blocked writing: the pipe is not read
        time.sleep(1)
        client.send_signal(signal.SIGHUP)
        time.sleep(1)
        out, err = client.communicate(timeout=120)
    finally:
        client.kill()
    alone = _koken({**server_env, "KOKEN_NO_SERVER": "1"}, "trace", str(EXAMPLE))
    assert (client.returncode, err.decode()) == (0, "")
    assert out.decode() == alone.stdout
