"""``koken server``: a resident koken that has imported its libraries and loaded the bundled methodologies once,
and runs each command handed to it (:mod:`koken.cli.client`) in a process forked from itself.

Run as ``python -m koken.cli.server --idle SECONDS`` (``koken server start`` does it); it stops after ``SECONDS``
without a command, on ``koken server stop``, or on SIGTERM. Before each command it checks that the engine's source
files and the bundled data files hash as when it loaded them (:func:`fingerprint`); if not, it declines the command
(which then runs in the client's own process) and starts again from the files. Each command runs in a fresh fork,
with the client's standard streams, working folder, environment and umask; what the command does to its process
never reaches the server or the next command. Rules and their reasons: docs/performance.md § Start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import io
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from pathlib import Path

from koken.base.files import atomic_write
from koken.base.paths import data_root
from koken.base.version import __version__
from koken.cli import client, commands

DATA_FOLDERS = ("methodologies", "units", "factors", "attribution", "vocabulary", "action_plan", "claims")
"""The bundled data folders a command may read (under :func:`koken.base.paths.data_root`)."""
REQUEST_SECONDS = 0.5
"""How long the server waits for a connected client's request (a client sends it as it connects): the clients queued
behind a stalled one wait at most this long (they give up, and run their command themselves, after 2 s)."""


def fingerprint() -> str:
    """The sha256 of the engine's files (every file of the package: sources, message catalogues) and of every file
    of the bundled data folders (:data:`DATA_FOLDERS`), by path and content, read again at each call (about 15 ms)."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(commands.__file__).resolve().parent.parent
    for root in [package, *(data_root() / name for name in DATA_FOLDERS)]:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(os.fsencode(path) + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def preload() -> None:
    """Import what the commands use and load the bundled methodologies (in English and in Japanese, as the messages
    of a library are made in the language of the run), so that a forked command starts with them."""
    import numpy.f2py  # noqa: F401  (lambdify's numpy namespace imports it: once here, not in each command)

    import koken.api
    import koken.audit.trace
    import koken.audit.verify
    import koken.reporting.output
    import koken.scale.sinks  # noqa: F401
    from koken.base.i18n import language

    for lang in ("en", "ja"):
        with language(lang):
            commands.preload_libraries()


class Server:
    """The listening socket, the commands served, and the idle clock."""

    def __init__(self, path: Path, idle: float):
        self.path, self.idle = path, idle
        self.started = time.time()
        self.commands = 0
        self.loaded = fingerprint()
        self.stopping = False
        self.restart = False
        self.last = time.monotonic()
        self.children: set[int] = set()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o077)
        try:
            with contextlib.suppress(FileNotFoundError):
                state = client.status(path)
                if state is None or state.get("starting"):  # a socket left by a server that died (main() checked
                    path.unlink()  # that no other server answers or loads)
            self.sock.bind(os.fspath(path))
        finally:
            os.umask(previous)
        self.inode = os.stat(path).st_ino
        self.sock.listen(16)
        self.sock.settimeout(1.0)

    def serve(self) -> None:
        """Accept commands until stopped or idle; then remove the socket (if it is still this server's)."""
        signal.signal(signal.SIGTERM, self._stop_signal)
        try:
            while not self.stopping:
                self._reap()
                if not self.children and time.monotonic() - self.last > self.idle:
                    break
                try:
                    conn, _address = self.sock.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(REQUEST_SECONDS)
                    try:
                        self._handle(conn)
                    except Exception:  # a broken client (JSON nested too deep …): nothing was started for it
                        pass
        finally:
            self.sock.close()
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self.inode:
                    self.path.unlink()
        if self.restart:  # a file changed: start again from the files (the socket is free again)
            os.execv(sys.executable, [sys.executable, "-m", "koken.cli.server", "--idle", str(int(self.idle))])

    def _stop_signal(self, _signum, _frame) -> None:
        self.stopping = True

    def _reap(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                done, _status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.children.discard(pid)

    def _handle(self, conn: socket.socket) -> None:
        if hasattr(socket, "SO_PEERCRED"):  # Linux: the connecting process must be this user's
            _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                   struct.calcsize("3i")))
            if uid != os.getuid():
                return
        head, fds, _flags, _address = socket.recv_fds(conn, 4, 3)
        try:
            if len(head) < 4:
                head += client.receive_exactly(conn, 4 - len(head))
            if not fds:
                self._control(conn, client.receive_message(conn))
                return
            if len(fds) != 3:
                return
            message = client.receive_message(conn, head)
            if message.get("identity") != client.identity():
                client.send_message(conn, {"declined": "another koken or Python"})
                return
            if fingerprint() != self.loaded:
                client.send_message(conn, {"declined": "files changed since the server started"})
                self.stopping = self.restart = True
                return
            self.last = time.monotonic()
            self.commands += 1
            pid = os.fork()
            if pid == 0:
                self._run_child(conn, fds, message)  # never returns
            self.children.add(pid)
        finally:
            for fd in fds:
                os.close(fd)

    def _control(self, conn: socket.socket, message: dict) -> None:
        if message.get("identity") != client.identity():
            client.send_message(conn, {"declined": "another koken or Python"})
            return
        client.send_message(conn, {"pid": os.getpid(), "started": self.started, "commands": self.commands,
                                   "identity": client.identity()})
        if message.get("control") == "stop":
            self.stopping = True

    def _run_child(self, conn: socket.socket, fds: list[int], message: dict) -> None:
        """Take on the client's streams, folder, environment and umask, and run its command once the client has
        taken the command's process id (``{"go": true}``): a client that gave up waiting (and runs the command
        itself) gets neither a second run nor a traceback on its streams. A request this process cannot take on
        (a folder it cannot enter …) is declined, quietly, so that the client runs it."""
        code = 1
        try:
            self.sock.close()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            conn.settimeout(None)
            try:
                argv = _take_on(fds, message)
            except Exception as error:  # declined, with the reason: the client runs it itself
                with contextlib.suppress(Exception):
                    client.send_message(conn, {"declined": f"cannot run it here: {error}"})
                os._exit(1)
            try:
                client.send_message(conn, {"pid": os.getpid()})
                if client.receive_message(conn).get("go") is not True:
                    os._exit(1)
            except BaseException:  # the client gave up waiting (it runs the command itself), or a Ctrl-C came first
                os._exit(1)
            threading.Thread(target=_end_with_client, args=(conn,), daemon=True).start()
            code = _run(argv)
        except BaseException:  # the command's own errors are handled by the CLI; this is the server's
            with contextlib.suppress(Exception):
                traceback.print_exc()
            code = 1
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            with contextlib.suppress(Exception):
                client.send_message(conn, {"exit": code})
            os._exit(code)


def _take_on(fds: list[int], message: dict) -> list[str]:
    """This process takes the client's standard streams (``fds``, closed here), environment, working folder and
    umask; the command's arguments.

    Raises:
        Exception: a request not made by :func:`koken.cli.client.request` (a folder that does not exist here …).
    """
    env = {str(k): str(v) for k, v in dict(message["env"]).items()}
    argv = [str(a) for a in list(message["argv"])]
    umask = int(message["umask"])
    streams = list(message.get("streams") or [{}, {}, {}])
    os.chdir(message["cwd"])
    os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    fds.clear()
    unbuffered = env.get("PYTHONUNBUFFERED", "") != ""  # as python -u
    sys.stdin = _text_stream(0, "r", streams[0], unbuffered)
    sys.stdout = _text_stream(1, "w", streams[1], unbuffered)
    sys.stderr = _text_stream(2, "w", streams[2], unbuffered)
    sys.argv = ["koken", *argv]
    return argv


def _end_with_client(conn: socket.socket) -> None:
    """Wait for the client's end of the connection to close (it sends nothing more): if it closes before the command
    ends (the client was killed, even with SIGKILL, which it cannot pass on), the command ends too, as it would
    have in the client's own process."""
    with contextlib.suppress(OSError):
        conn.recv(1)
    os.kill(os.getpid(), signal.SIGKILL)


def _text_stream(fd: int, mode: str, stream: dict, unbuffered: bool) -> io.TextIOWrapper:
    """The client's stream on descriptor ``fd``, with its encoding and error handler, buffered as Python buffers its
    own: standard output line-buffered on a terminal, standard error always; nothing buffered for writing under
    ``PYTHONUNBUFFERED`` (``unbuffered``)."""
    writing = mode == "w"
    binary = os.fdopen(fd, mode + "b", closefd=False, buffering=0 if writing and unbuffered else -1)
    return io.TextIOWrapper(binary, encoding=stream.get("encoding") or "utf-8", errors=stream.get("errors") or "strict",
                            line_buffering=writing and (fd == 2 or os.isatty(fd)),
                            write_through=writing and (unbuffered or fd == 2))


def _run(argv: list[str]) -> int:
    """``koken ARGV`` with the command group, its exit code as Python's ``sys.exit`` gives it."""
    try:
        commands.main(args=argv, prog_name="koken")
    except SystemExit as done:
        if done.code is None:
            return 0
        if isinstance(done.code, int):
            return done.code
        print(done.code, file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m koken.cli.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=3600, help="stop after this many seconds without a command")
    options = parser.parse_args()
    path = client.socket_path()
    if path is None or not client.available():
        raise SystemExit("koken server: no private cache folder, or this platform cannot pass file descriptors")
    state = client.status(path)
    if state is not None and state["pid"] != os.getpid():  # (after a restart the file names this process already)
        raise SystemExit(f"koken server: process {state['pid']} already serves {path}")
    pid_file = client.pid_path(path)
    atomic_write(pid_file, str(os.getpid()).encode("ascii"))  # `koken server status`: starting, while koken loads
    try:
        preload()
        gc.freeze()  # what was loaded is never collected: a forked command's collector does not touch (its pages)
        Server(path, float(options.idle)).serve()
    finally:
        with contextlib.suppress(OSError, ValueError):
            if int(pid_file.read_text(encoding="ascii")) == os.getpid():
                pid_file.unlink()


if __name__ == "__main__":
    main()
