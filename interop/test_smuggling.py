"""Request smuggling through a GET body, against vLLM's own HTTP server (uvicorn, both of its parsers).

A GET /v1/models needs no token. If the proxy forwarded its body on a kept-alive upstream connection
without framing it, uvicorn would read that body as a second request and its answer would go to the
next client on that connection. Here the upstream logs every request it parses, so the test sees
exactly what reached it.
"""

import hashlib
import json
import socket
import sys
import tempfile

import httpx
import pytest

from conftest import MODEL, REPO, TOKEN, Process, free_port, wait_http

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHAT = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode()


@pytest.fixture(params=["h11", "httptools"])
def uvicorn_upstream(request):
    """uvicorn serving benchmarks/uvicorn/vllm_asgi.py on a free loopback port, with its request log."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="uvicorn-requests-", suffix=".jsonl", delete=False)
    log.close()
    proc = Process(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(REPO / "benchmarks" / "uvicorn"), "vllm_asgi:app",
         "--host", "127.0.0.1", "--port", str(port), "--http", request.param, "--no-access-log"],
        env={"VLLM_ASGI_REQUEST_LOG": log.name, "VLLM_ASGI_MODEL": MODEL},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health", proc=proc)
        yield base, log.name
    finally:
        proc.stop()


def requests_seen(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


def raw_exchange(base: str, data: bytes, timeout: float = 10.0) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(data)
        received = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return received
            received += chunk


def test_get_body_never_reaches_uvicorn(uvicorn_upstream, start_proxy):
    upstream, log = uvicorn_upstream
    base, _ = start_proxy(upstream, "--dev")
    smuggled = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: vllm\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(CHAT)}\r\n\r\n".encode() + CHAT
    )
    before = len(requests_seen(log))
    for framing, body in [
        (f"Content-Length: {len(smuggled)}", smuggled),
        ("Transfer-Encoding: chunked", f"{len(smuggled):x}\r\n".encode() + smuggled + b"\r\n0\r\n\r\n"),
    ]:
        answer = raw_exchange(base, f"GET /v1/models HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode() + body)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert answer.count(b"HTTP/1.1 ") == 1, "one answer, then the connection closes"
    assert len(requests_seen(log)) == before, "nothing reached uvicorn"

    # Ten victims in a row on the proxy's pooled connections: each gets the answer to its own request,
    # and uvicorn saw exactly their requests, none of them with a body it did not expect.
    for _ in range(10):
        models = httpx.get(f"{base}/v1/models", timeout=30)
        assert models.status_code == 200 and models.json()["object"] == "list"
        response = httpx.post(f"{base}/v1/chat/completions", content=CHAT, headers=AUTH, timeout=30)
        assert response.status_code == 200
        chat_id = response.json()["id"]
        signature = httpx.get(f"{base}/v1/signature/{chat_id}", headers=AUTH, timeout=30).json()
        expected = hashlib.sha256(CHAT).hexdigest() + ":" + hashlib.sha256(response.content).hexdigest()
        assert signature["text"] == expected
    seen = requests_seen(log)[before:]
    assert [(r["method"], r["path"]) for r in seen] == [("GET", "/v1/models"), ("POST", "/v1/chat/completions")] * 10
    for request in seen:
        if request["method"] == "GET":
            assert request["content_length"] in (None, "0") and request["transfer_encoding"] is None
        else:
            assert request["content_length"] == str(len(CHAT)) and request["body_bytes"] == len(CHAT)
