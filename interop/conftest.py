"""Starts the project's binaries on loopback for the interop tests; every wait is bounded."""

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Fixtures"
TOKEN = "interop-token"
MODEL = "tiny"


def bin_path(name: str) -> str:
    bin_dir = os.environ.get("BIN_DIR") or str(REPO / ".build" / "debug")
    path = Path(bin_dir) / name
    if not path.exists():
        pytest.fail(f"{path} missing: run `swift build` first (make test does)")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process that is always terminated, with its output kept for failure messages."""

    def __init__(self, args, env=None):
        self.log = open(_tmp_log(), "w+")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.log, env={**os.environ, **(env or {})}, text=True
        )

    def read_line_matching(self, pattern: str, timeout: float = 30.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _tmp_log() -> str:
    import tempfile

    fd, path = tempfile.mkstemp(prefix="interop-", suffix=".log")
    os.close(fd)
    return path


def wait_http(url: str, timeout: float = 30.0, proc: Process | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"process exited early ({proc.proc.returncode}):\n{proc.stderr()}")
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == 200:
                return
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready: {last}")


@pytest.fixture
def start_mock():
    started = []

    def start(*extra: str) -> str:
        p = Process([bin_path("mock-vllm"), "--port", "0", "--model", MODEL, *extra])
        started.append(p)
        match = p.read_line_matching(r"listening on (http://\S+)")
        return match.group(1)

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def start_proxy():
    started = []

    def start(upstream: str, *extra: str, env=None) -> tuple[str, Process]:
        port = free_port()
        args = [
            bin_path("signing-proxy"), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--upstream", upstream, "--model-name", MODEL, "--token", TOKEN, *extra,
        ]
        p = Process(args, env=env)
        started.append(p)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", proc=p)
        return base, p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def dev_proxy(start_mock, start_proxy):
    """mock-vllm plus signing-proxy --dev, as the issue's 'Done means' starts them."""

    def start(*mock_args: str, proxy_args=()):
        upstream = start_mock(*mock_args)
        base, proc = start_proxy(upstream, "--dev", *proxy_args)
        return base, proc

    return start
