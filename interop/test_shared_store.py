"""Two proxy replicas sharing a real redis-server on loopback (docs/API.md, "Shared receipt store"): a completion
served by replica A has its signature fetched from replica B and verified with eth-account; Redis killed under
load fails no completion, A keeps serving its signatures, and sharing resumes once Redis is back, with the records
A made meanwhile."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import MODEL, TOKEN, free_port
from verify import check_signatures, first_chat_id

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = "interop-shared-store"


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, no persistence; always stopped."""

    def __init__(self):
        self.executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="interop-redis-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.directory, "--logfile", f"{self.directory}/redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self):
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server") and not os.path.exists("/usr/bin/redis-server"):
        pytest.fail("redis-server missing: make deps installs it")
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def replicas(start_mock, start_proxy, redis_server):
    """Replicas A and B of one app (one development seed) in front of one mock vLLM, sharing `redis_server`."""

    def start(**extra_env):
        upstream = start_mock()
        env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "DEV_KEY_SEED": SEED, **extra_env}
        a, _ = start_proxy(upstream, "--dev", env=env)
        b, _ = start_proxy(upstream, "--dev", env=env)
        return a, b

    return start


def complete(base: str, streamed: bool, client: httpx.Client | None = None) -> tuple[bytes, bytes]:
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 16,
                       "stream": streamed}).encode()
    http = client or httpx
    response = http.post(f"{base}/v1/chat/completions", content=body,
                         headers={**AUTH, "Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 200, response.text
    return body, response.content


def metric(base: str, name: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(match.group(1)) if match else -1


@pytest.mark.parametrize("streamed", [False, True])
def test_signature_of_a_completion_on_replica_a_is_served_by_replica_b(replicas, streamed):
    # A roomy write wait: this test asserts sharing, on a machine that may be busy with the rest of the suite.
    a, b = replicas(REDIS_WRITE_TIMEOUT_MS="1000")
    request, response = complete(a, streamed)
    # Straight from B, the moment A's answer ended: the record was written before its last bytes.
    record = check_signatures(b, request, response, streamed)
    assert record == check_signatures(a, request, response, streamed)
    assert metric(b, "signing_proxy_signature_lookup_shared_hits_total") == 2
    assert metric(a, "signing_proxy_shared_store_writes_total") == 1


def test_redis_killed_under_load_then_restarted(replicas, redis_server):
    a, b = replicas()
    total, concurrency, kill_after = 200, 16, 60
    done = []
    failures = []
    lock = threading.Lock()
    killed = threading.Event()

    def one(index: int):
        with httpx.Client() as client:
            try:
                request, response = complete(a, streamed=index % 2 == 0, client=client)
            except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    failures.append(repr(error))
                return
        with lock:
            done.append((index, request, response, killed.is_set()))
            if len(done) == kill_after:
                redis_server.kill()
                killed.set()

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(total)))
    elapsed = time.monotonic() - started
    after_kill = [entry for entry in done if entry[3]]

    # A still serves every signature it made while Redis was gone (from memory); B, without Redis, none of them.
    a_served = sum(
        httpx.get(f"{a}/v1/signature/{first_chat_id(resp, idx % 2 == 0)}", headers=AUTH, timeout=10).status_code == 200
        for idx, _, resp, _ in after_kill)
    b_served = sum(
        httpx.get(f"{b}/v1/signature/{first_chat_id(resp, idx % 2 == 0)}", headers=AUTH, timeout=10).status_code == 200
        for idx, _, resp, _ in after_kill[:20])
    counts = {
        "requests": total, "concurrency": concurrency, "completed": len(done), "failed": len(failures),
        "completed_after_kill": len(after_kill), "a_served_after_kill": a_served, "b_served_of_20_after_kill": b_served,
        "seconds": round(elapsed, 2),
        "a_store_writes": metric(a, "signing_proxy_shared_store_writes_total"),
        "a_write_errors": metric(a, "signing_proxy_shared_store_write_errors_total"),
        "a_write_timeouts": metric(a, "signing_proxy_shared_store_write_timeouts_total"),
        "a_writes_skipped": metric(a, "signing_proxy_shared_store_writes_skipped_total"),
        "a_store_up": metric(a, "signing_proxy_shared_store_up"),
    }

    # Sharing resumes by itself once Redis is back (a fresh, empty one: no persistence).
    redis_server.start()
    resumed_after = None
    deadline = time.monotonic() + 30
    restarted = time.monotonic()
    while time.monotonic() < deadline:
        request, response = complete(a, streamed=False)
        lookup = httpx.get(f"{b}/v1/signature/{first_chat_id(response, False)}", headers=AUTH, timeout=10)
        if lookup.status_code == 200:
            resumed_after = round(time.monotonic() - restarted, 2)
            check_signatures(b, request, response, False)
            break
        time.sleep(0.2)
    counts["sharing_resumed_after_s"] = resumed_after
    counts["a_store_up_after_restart"] = metric(a, "signing_proxy_shared_store_up")

    # The records A made while Redis was gone are written once it answers again: B serves them too. Those whose
    # SET landed just before the kill went with the killed server's memory, and are not rewritten: at most one per
    # request in flight at the kill.
    def b_serves(idx, response):
        return httpx.get(
            f"{b}/v1/signature/{first_chat_id(response, idx % 2 == 0)}", headers=AUTH, timeout=10).status_code == 200
    deadline = time.monotonic() + 10
    b_backfilled = 0
    while time.monotonic() < deadline:
        b_backfilled = sum(b_serves(idx, resp) for idx, _, resp, _ in after_kill)
        if b_backfilled >= len(after_kill) - concurrency and metric(a, "signing_proxy_shared_store_backfilled_total") >= b_backfilled:
            break
        time.sleep(0.2)
    for idx, request, response, _ in after_kill[:4]:
        if b_serves(idx, response):
            check_signatures(b, request, response, idx % 2 == 0)
    counts["b_served_after_restart"] = b_backfilled
    counts["a_backlogged"] = metric(a, "signing_proxy_shared_store_backlogged_total")
    counts["a_backfilled"] = metric(a, "signing_proxy_shared_store_backfilled_total")
    counts["a_backlog_dropped"] = metric(a, "signing_proxy_shared_store_backlog_dropped_total")
    print("shared store under a Redis kill:", json.dumps(counts))

    assert failures == [], failures[:5]
    assert len(done) == total
    assert len(after_kill) > 0
    assert a_served == len(after_kill)
    assert resumed_after is not None, counts
    assert counts["a_store_up_after_restart"] == 1
    assert b_backfilled >= len(after_kill) - concurrency, counts
    assert counts["a_backlog_dropped"] == 0, counts
