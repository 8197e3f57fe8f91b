"""The client side of ``koken server`` (a resident koken that has imported its libraries and loaded the bundled
methodologies once): ``koken`` hands its command line to a running server, which forks a process that runs the
command with this process's standard streams, working folder, environment and umask, and answers its exit code.
Where no server runs (or it cannot serve this command) the command runs here, as always.

Standard library only: a command handed over costs this process no import of numpy, pandas or koken's engine.

What keeps a command run by the server the same as one run here (docs/performance.md § Start-up):

* the server is this user's own: its socket lies in the start-up cache folder (:func:`koken.base.cache.cache_dir`:
  the user's own, writable by no one else; ``KOKEN_NO_CACHE=1`` turns the server off as it turns the cache off),
  and on Linux the server also checks the connecting process's user id;
* the socket's name is a hash of the koken package's folder, the Python interpreter and koken's version
  (:func:`identity`), and the server refuses a client whose identity differs: another checkout, virtual
  environment or version always runs its own code;
* the server checks before every command that the engine's source files and every bundled data file (methodologies,
  units, factor tables, contribution ratios, vocabulary, action-plan and claim data) hash as when it loaded them;
  if one changed it declines (the command runs here) and starts again from the files;
* each command runs in a new process forked from the server, so nothing a command does reaches the next one.

Protocol (a Unix stream socket): the client sends 4 bytes (the length of a JSON request, big-endian) with its
three standard file descriptors attached (``SCM_RIGHTS``), then the request; the server answers with JSON messages,
each after its 4-byte length: ``{"pid": N}`` then ``{"exit": code}``, or ``{"declined": reason}``. The command
starts only when the client, having read its process id, sends ``{"go": true}``: a client that gave up waiting for
the server (2 s) and runs the command itself never has it run twice. The command ends if the client's end of the
socket closes first (the client was killed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

from koken.base.version import __version__

OFF_VARIABLE = "KOKEN_NO_SERVER"
"""Set to 1: never hand a command to a server."""
LOCAL_COMMANDS = frozenset({"server"})
"""Commands always run here (``koken server start|stop|status``)."""
MAX_MESSAGE = 16_000_000
"""Longest request or answer read (bytes); longer is a broken peer."""
MAX_SOCKET_PATH = 100
"""A Unix socket's path must fit ``sockaddr_un`` (108 bytes on Linux, 104 on macOS): longer and no server is used."""
START_TIMEOUT = 120.0
"""Seconds ``koken server start`` waits for the new server to answer."""


def available() -> bool:
    """This platform can pass file descriptors over Unix sockets and fork (POSIX), and the server is not off."""
    return (hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds") and hasattr(os, "fork")
            and os.environ.get(OFF_VARIABLE, "").strip() in ("", "0"))


def identity() -> dict:
    """What a server and its clients must share: the koken package's folder, koken's version, the Python interpreter
    and its environment (``sys.prefix``: a virtual environment's own folder)."""
    return {"package": str(Path(__file__).resolve().parent.parent), "version": __version__,
            "python": sys.executable, "prefix": sys.prefix}


def socket_path() -> Path | None:
    """The server's socket for this koken and interpreter (in the start-up cache folder), or None where there can be
    none: no safe cache folder, ``KOKEN_NO_CACHE=1``, a path too long for a Unix socket."""
    from koken.base.cache import cache_dir

    root = cache_dir()
    if root is None:
        return None
    tag = hashlib.sha256(json.dumps(identity(), sort_keys=True).encode()).hexdigest()[:16]
    path = root / f"server-{tag}.sock"
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def send_message(sock: socket.socket, message: dict) -> None:
    """One JSON message after its 4-byte length."""
    data = json.dumps(message, ensure_ascii=False).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes; EOFError if the peer closes first."""
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive_message(sock: socket.socket, head: bytes | None = None) -> dict:
    """One JSON message (its 4-byte length already read as ``head``, if given).

    Raises:
        EOFError: the peer closed the connection; ValueError: a message too long or not a JSON object.
    """
    (size,) = struct.unpack(">I", head if head is not None else receive_exactly(sock, 4))
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes")
    message = json.loads(receive_exactly(sock, size))
    if not isinstance(message, dict):
        raise ValueError("message is not an object")
    return message


def _connect(path: Path, timeout: float | None = 2.0) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        return None
    return sock


def _stream(stream) -> dict[str, str | None]:
    return {"encoding": getattr(stream, "encoding", None), "errors": getattr(stream, "errors", None)}


def request(argv: list[str]) -> dict:
    """What the server needs to run ``koken ARGV`` as this process would."""
    mask = os.umask(0)
    os.umask(mask)
    return {"identity": identity(), "argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ), "umask": mask,
            "streams": [_stream(sys.stdin), _stream(sys.stdout), _stream(sys.stderr)]}


def hand_over(argv: list[str]) -> int | None:
    """Run ``koken ARGV`` on the running server, if there is one that can: its exit code, or None (run it here).

    Signals this process receives (Ctrl-C, SIGTERM, SIGHUP) are passed on to the process running the command, unless
    this process ignores them (``nohup koken …``; SIGINT in a script's background job).
    """
    if not available() or _command(argv) in LOCAL_COMMANDS:
        return None
    path = socket_path()
    if path is None or not path.exists():
        return None
    sock = _connect(path)
    if sock is None:
        return None
    with sock:
        try:
            data = json.dumps(request(argv), ensure_ascii=False).encode()
            socket.send_fds(sock, [struct.pack(">I", len(data))], [0, 1, 2])
            sock.sendall(data)
            first = receive_message(sock)
        except (OSError, EOFError, ValueError):
            return None  # the server went away before it took the command: run here
        if "pid" not in first:
            return None  # declined (files changed, another koken …): run here
        child = int(first["pid"])
        sock.settimeout(None)

        def pass_on(signum, _frame):
            with contextlib.suppress(OSError):
                os.kill(child, signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup koken …: ignored here, so not passed on
                signal.signal(signum, pass_on)
        try:
            send_message(sock, {"go": True})  # from here the command is the server's: never run here as well
            answer = receive_message(sock)
        except (OSError, EOFError, ValueError):
            from koken.base.i18n import _

            print(_("koken: the server's process ended before the command did (run it again with KOKEN_NO_SERVER=1 "
                    "to run it here)"), file=sys.stderr)
            return 1
        return int(answer.get("exit", 1))


def _command(argv: list[str]) -> str | None:
    """The command ``argv`` names (``koken --lang ja server stop`` → ``server``): its first word that is not an
    option or the value of ``--lang``."""
    words = iter(argv)
    for word in words:
        if word == "--lang":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def pid_path(path: Path) -> Path:
    """The file that holds the process id of the server of socket ``path`` from its start (while it loads koken,
    before the socket answers) to its end."""
    return path.with_suffix(".pid")


def starting(path: Path) -> int | None:
    """The process id of a server of socket ``path`` that is alive but not answering yet (loading koken, or
    starting again after a file changed), else None."""
    try:
        pid = int(pid_path(path).read_text(encoding="ascii").strip())
        os.kill(pid, 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if Path("/proc").is_dir() else b"koken.cli.server"
    except (OSError, ValueError):
        return None
    return pid if b"koken.cli.server" in command else None


def status(path: Path | None = None) -> dict | None:
    """The server's state: ``pid``, ``started``, ``commands``, ``identity``, ``socket`` when it answers; ``pid``,
    ``socket`` and ``starting: True`` while it loads koken (:func:`starting`); None if there is none."""
    path = path or socket_path()
    if path is None:
        return None
    sock = _connect(path) if path.exists() else None
    if sock is not None:
        with sock:
            try:
                socket.send_fds(sock, [struct.pack(">I", 0)], [])  # no descriptors: a control request
                send_message(sock, {"control": "status", "identity": identity()})
                answer = receive_message(sock)
            except (OSError, EOFError, ValueError):
                answer = {}
        if "pid" in answer:
            return {**answer, "socket": str(path)}
    pid = starting(path)
    return {"pid": pid, "socket": str(path), "starting": True} if pid is not None else None


def stop() -> dict | None:
    """Ask the running server to stop (after the commands it runs end; one still loading koken is ended with
    SIGTERM); its state before, or None if none ran."""
    path = socket_path()
    before = status(path)
    if before is None:
        return None
    if before.get("starting"):
        with contextlib.suppress(OSError):
            os.kill(int(before["pid"]), signal.SIGTERM)
        return before
    sock = _connect(path)
    if sock is not None:
        with sock, contextlib.suppress(OSError, EOFError, ValueError):
            socket.send_fds(sock, [struct.pack(">I", 0)], [])
            send_message(sock, {"control": "stop", "identity": identity()})
            receive_message(sock)
    deadline = time.monotonic() + 10
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return before


def start(idle_seconds: int, waiting=None) -> dict:
    """Start a server in the background (or find the one running, or wait for the one loading) until it answers.

    Args:
        idle_seconds: the server stops after this long without a command (a server already running keeps its own).
        waiting: called once, with no argument, when the wait begins (to tell the user).
    Returns:
        Its state (:func:`status`), with ``already: True`` if it was running before.
    Raises:
        RuntimeError: this platform has no server, the cache folder is off or unsafe, or the server did not start
            (the end of its log is in the message).
    """
    from koken.base.i18n import _

    if not available():
        raise RuntimeError(_("koken server needs POSIX (Unix sockets and fork) and KOKEN_NO_SERVER unset"))
    path = socket_path()
    if path is None:
        raise RuntimeError(_("koken server needs the start-up cache folder (KOKEN_CACHE_DIR, private to you; "
                             "KOKEN_NO_CACHE unset) and a path to it short enough for a socket"))
    running = status(path)
    if running is not None and not running.get("starting"):
        return {**running, "already": True}
    log = path.with_suffix(".log")
    process = None
    if running is None:
        with open(log, "wb") as err:
            process = subprocess.Popen([sys.executable, "-m", "koken.cli.server", "--idle", str(int(idle_seconds))],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                       start_new_session=True, cwd="/")
    if waiting is not None:
        waiting()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        state = status(path)
        if state is not None and not state.get("starting"):
            return state
        if process is not None and process.poll() is not None:
            break
        if process is None and state is None:  # the server that was loading ended
            break
        time.sleep(0.1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
    if process is not None and process.poll() is None:
        process.terminate()
    raise RuntimeError(_("the koken server did not start: {log}").format(log=tail.strip() or log))
