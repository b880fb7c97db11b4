"""Processes for the bench: gunicorn and nginx on 127.0.0.1, wrk runs; every server is stopped.

Servers run in their own process group and are stopped with SIGTERM (then SIGKILL) on the group, so
no worker survives the bench, whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

GUNICORN_SETTINGS = """\
# Written by the bench: the SAME settings for the service and the bare Flask baseline.
workers = 2
worker_class = "sync"
accesslog = None
errorlog = "-"
loglevel = "warning"
timeout = 60
graceful_timeout = 5
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_tools(log=print) -> None:  # noqa: ANN001
    """Install wrk and nginx from Debian if missing (needs root; otherwise says what to install)."""
    missing = [t for t, path in (("wrk", "wrk"), ("nginx", "nginx")) if not shutil.which(path)
               and not Path(f"/usr/sbin/{path}").exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"the bench needs {' and '.join(missing)}: apt-get install -y {' '.join(missing)}")
    log(f"installing {' '.join(missing)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env,  # noqa: S603,S607
                   stdout=subprocess.DEVNULL)


def nginx_bin() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/"
    log_path: Path | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.argv, env={**os.environ, **self.env}, cwd=ROOT,  # noqa: S603
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=5) as r:  # noqa: S310
                    r.read()
                return self
            except urllib.error.HTTPError:
                return self  # it answers
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)


def gunicorn(name: str, app: str, port: int, workdir: Path, env: dict[str, str] | None = None,
             ready_path: str = "/") -> Server:
    conf = workdir / "gunicorn.bench.py"
    conf.write_text(GUNICORN_SETTINGS)
    argv = [str(VENV_BIN / "gunicorn"), "-c", str(conf), "-b", f"127.0.0.1:{port}", app]
    return Server(name, argv, port, env or {}, ready_path, workdir / f"{name}.log")


@dataclass
class WrkResult:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int
    latency_avg_ms: float
    wrapped: bool = False  # post_lines.lua ran out of pre-built requests and repeated some

    @property
    def ok_rps(self) -> float:
        """Requests per second that got a 2xx or 3xx."""
        return self.rps * (1 - self.non_2xx / self.requests) if self.requests else 0.0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, *, threads: int = 2, connections: int = 32, duration: float = 5, script: Path | None = None,
        args: list[str] | None = None, headers: dict[str, str] | None = None, timeout: float = 10) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", f"--timeout={timeout:g}s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script:
        argv += ["-s", str(script)]
    argv.append(url)
    if args:
        argv += ["--", *args]
    out = subprocess.run(argv, capture_output=True, text=True, check=True,  # noqa: S603
                         timeout=duration + timeout + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    lat = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)", out)
    return WrkResult(
        rps=rps, requests=requests, non_2xx=int(non.group(1)) if non else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        latency_avg_ms=float(lat.group(1)) * _UNITS[lat.group(2)] if lat else 0.0,
        wrapped="WRAPPED" in out,
    )
