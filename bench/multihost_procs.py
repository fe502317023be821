"""Processes of the multi-host run: gunicorn servers on loopback ports, and the faults.

Each server is ``gunicorn -w 2 -b 127.0.0.1:PORT 'api.app:create_app()'`` in a session (and so
a process group) of its own: a SIGKILL to the group kills the master and its workers at once,
as a host that loses power would, and :meth:`Server.stop` leaves nothing behind. Ports are
ephemeral (the kernel picks a free one; the server binds it right after).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
APP = "api.app:create_app()"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _no_control_socket() -> list[str]:
    """Recent gunicorn (27 here) opens a control socket at one fixed path per user; three
    servers (and anybody else's gunicorn) would take it from each other."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(s.name == "control_socket_disable"
                                          for s in KNOWN_SETTINGS) else []


@dataclass
class Server:
    name: str
    env: dict[str, str]
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(self.workers),
                 "-b", f"127.0.0.1:{self.port}", "--timeout", "120", "--graceful-timeout", "5",
                 "--access-logfile", "-", *_no_control_socket(), APP],
                cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        finally:
            log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the server answers a public endpoint (no key)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/api/v1/log/checkpoint", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready on {self.url} after {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the master and every worker (the whole process group)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the group (gunicorn's graceful stop), SIGKILL what is left after ``grace``."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        self.kill()


def restart_postgres() -> None:
    """Restart the local cluster the way this machine's documentation says (fast shutdown:
    open transactions are rolled back and every connection is cut)."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True, timeout=120)


def terminate_backends(admin_url: str, application_name: str) -> int:
    """Cut the run's own database connections (a fault that leaves other users alone)."""
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": application_name}).all())
    finally:
        admin.dispose()


def wait_postgres(admin_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                              connect_args={"connect_timeout": 2})
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
        finally:
            admin.dispose()
