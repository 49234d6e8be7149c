"""Bad inputs and broken streams: each gets the OpenAI envelope, nothing is signed, nothing crashes."""

import os
import time

import httpx
import pytest

from conftest import MODEL, TOKEN, free_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def assert_envelope(response: httpx.Response, status: int, type_: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_
    assert body["error"]["param"] is None and body["error"]["code"] is None
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_bad_json_413_401_404(dev_proxy):
    base, proc = dev_proxy()
    url = f"{base}/v1/chat/completions"
    assert_envelope(httpx.post(url, content=b'{"model":"tiny",', headers=AUTH), 400, "bad_request")
    assert_envelope(httpx.post(url, content=b"[1,2]", headers=AUTH), 400, "bad_request")
    big = b'{"model":"tiny","pad":"' + b"x" * (11 * 1024 * 1024) + b'"}'
    assert_envelope(httpx.post(url, content=big, headers=AUTH, timeout=30), 413, "payload_too_large")
    assert_envelope(httpx.post(url, json={"model": MODEL}, headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    assert_envelope(httpx.post(url, json={"model": MODEL}), 401, "unauthorized")
    assert_envelope(httpx.get(f"{base}/v1/signature/chatcmpl-nope", headers=AUTH), 404, "not_found")
    assert_envelope(httpx.get(f"{base}/v1/signature/x?signing_algo=rsa", headers=AUTH), 404, "not_found")
    assert_envelope(httpx.get(f"{base}/no/such/route"), 404, "not_found")
    # The proxy is still healthy afterwards.
    assert httpx.get(f"{base}/").status_code == 200
    assert proc.proc.poll() is None


def test_unreachable_upstream_is_502(start_proxy):
    closed = f"http://127.0.0.1:{free_port()}"
    base, _ = start_proxy(closed, "--dev")
    r = httpx.post(f"{base}/v1/chat/completions", json={"model": MODEL, "messages": []}, headers=AUTH, timeout=30)
    assert_envelope(r, 502, "upstream_error")


def test_upstream_error_passes_through_unsigned(dev_proxy):
    base, _ = dev_proxy()
    r = httpx.post(
        f"{base}/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "x"}]}, headers=AUTH, timeout=30,
    )
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "NotFoundError"


def stream_request(base: str, max_tokens: int | None = 50):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return httpx.Client(timeout=30).stream("POST", f"{base}/v1/chat/completions", headers=AUTH, json=body)


def chat_id_of(chunk: bytes) -> str:
    import json

    line = chunk.split(b"\n", 1)[0]
    return json.loads(line[len(b"data: "):])["id"]


def test_stream_cut_before_done_is_not_signed(dev_proxy):
    base, _ = dev_proxy("--fail-after", "3")
    received = b""
    with pytest.raises(httpx.HTTPError):
        with stream_request(base) as response:
            for chunk in response.iter_raw():
                received += chunk
    assert received.startswith(b"data: ")
    assert b"[DONE]" not in received
    r = httpx.get(f"{base}/v1/signature/{chat_id_of(received)}", headers=AUTH)
    assert r.status_code == 404


def test_abandoned_stream_is_not_signed(dev_proxy):
    base, _ = dev_proxy("--delay-ms", "50")
    with stream_request(base, max_tokens=100) as response:
        first = next(response.iter_raw())
    # Leaving the block closes the connection mid-stream; the proxy must not sign.
    chat_id = chat_id_of(first)
    time.sleep(6)  # longer than the rest of the stream would have taken
    r = httpx.get(f"{base}/v1/signature/{chat_id}", headers=AUTH)
    assert r.status_code == 404


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_100mb_stream_keeps_memory_flat(dev_proxy):
    base, proc = dev_proxy("--tokens", "100000000")
    # Warm up allocators and pools with a small stream first.
    with stream_request(base, max_tokens=100) as response:
        for _ in response.iter_raw():
            pass
    before = rss_kib(proc.pid)
    total = 0
    peak = before
    # No max_tokens: the mock then generates --tokens of them (beyond its max_model_len check).
    with stream_request(base, max_tokens=None) as response:
        for chunk in response.iter_raw():
            total += len(chunk)
            if total > 100 * 1024 * 1024:
                break
            if total % (8 * 1024 * 1024) < len(chunk):
                peak = max(peak, rss_kib(proc.pid))
    peak = max(peak, rss_kib(proc.pid))
    growth_mib = (peak - before) / 1024
    print(f"\n100 MB stream: proxy RSS before {before/1024:.1f} MiB, peak {peak/1024:.1f} MiB, growth {growth_mib:.1f} MiB")
    assert total > 100 * 1024 * 1024
    assert growth_mib < 20
