"""The proxy's allow-list in front of a real vLLM: vLLM's administrative and other routes are not reachable
through it, and a path vLLM itself does not serve as asked (a trailing slash, which vLLM answers with a
307 to its own address) is neither forwarded as a redirect to the upstream nor signed."""

import httpx
import pytest

from signed import AUTH

# Routes a real vLLM 0.32 registers (or registers in its development mode) that no client of the proxy
# may reach, and paths nobody serves.
NOT_SERVED = [
    ("POST", "/scale_elastic_ep"), ("POST", "/is_scaling_elastic_ep"), ("GET", "/load"),
    ("POST", "/sleep"), ("POST", "/wake_up"), ("GET", "/is_sleeping"), ("POST", "/reset_prefix_cache"),
    ("POST", "/reset_mm_cache"), ("POST", "/collective_rpc"), ("POST", "/v1/load_lora_adapter"),
    ("POST", "/v1/unload_lora_adapter"), ("POST", "/inference/v1/generate"), ("POST", "/inference/v1/abort_requests"),
    ("POST", "/v1/chat/completions/render"), ("POST", "/v1/chat/completions/batch"), ("POST", "/invocations"),
    ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/kv_event_sources"),
    ("POST", "/v1/systemone"), ("POST", "/generative_scoring"), ("POST", "/v1/nope"), ("GET", "/nope"),
]


@pytest.mark.parametrize("method,path", NOT_SERVED, ids=[f"{m} {p}" for m, p in NOT_SERVED])
def test_not_served(proxy, vllm_url, method, path):
    body = b"{}" if method == "POST" else None
    r = httpx.request(method, f"{proxy}{path}", content=body, headers=AUTH, timeout=30)
    assert r.status_code == 404, (r.status_code, r.text)
    assert r.text.strip().lower() not in ("not found", '{"detail":"not found"}'), "say the route is not served"


def test_trailing_slash_is_not_redirected_to_the_upstream(proxy, vllm_url):
    body = b'{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2}'
    direct = httpx.post(f"{vllm_url}/v1/chat/completions/", content=body, timeout=60)
    assert direct.status_code == 307  # what vLLM does: a redirect to its own address
    r = httpx.post(f"{proxy}/v1/chat/completions/", content=body, headers=AUTH, timeout=60)
    assert r.status_code != 200 and "chatcmpl-" not in r.text
    assert vllm_url not in r.headers.get("location", ""), "the upstream's address must not leak"


def test_audio_route_reaches_vllm(proxy):
    """The audio routes are served (multipart, hashed as received): on a vLLM without an audio model the
    answer is vLLM's own 404, passed through, not the proxy's "not served" one."""
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ntiny\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
        f"Content-Type: audio/wav\r\n\r\nRIFF\r\n--{boundary}--\r\n"
    ).encode()
    r = httpx.post(
        f"{proxy}/v1/audio/transcriptions", content=body, timeout=60,
        headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 404
    assert r.content == b'{"detail":"Not Found"}'
