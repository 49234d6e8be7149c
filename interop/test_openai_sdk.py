"""The official openai SDK works through the proxy after changing only the base URL, and what it
received verifies with eth-account and cryptography from the exact bytes."""

import json

import httpx
import openai
import pytest

from conftest import MODEL, TOKEN
from verify import check_signatures

MESSAGES = [{"role": "user", "content": "hello"}]


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=30)


@pytest.mark.parametrize("mock_args", [(), ("--split-writes",)], ids=["plain", "split-writes"])
def test_sdk_non_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    raw = client(base).chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, max_tokens=8)
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.content
    check_signatures(base, raw.http_request.content, raw.http_response.content, streamed=False)


@pytest.mark.parametrize("mock_args", [(), ("--split-writes",)], ids=["plain", "split-writes"])
def test_sdk_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    c = client(base)
    # The SDK's own stream parser must accept the proxy's bytes.
    chunks = list(
        c.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=8, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks and all(ch.id == chunks[0].id for ch in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
    # And the exact bytes it received verify.
    with c.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, stream=True
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    assert body.endswith(b"data: [DONE]\n\n")
    check_signatures(base, request_bytes, body, streamed=True)


def test_sdk_legacy_completions(dev_proxy):
    base, _ = dev_proxy()
    raw = client(base).completions.with_raw_response.create(model=MODEL, prompt="hello", max_tokens=8)
    assert raw.parse().id.startswith("cmpl-")
    check_signatures(base, raw.http_request.content, raw.http_response.content, streamed=False)
    stream = list(client(base).completions.create(model=MODEL, prompt="hello", max_tokens=4, stream=True))
    assert stream


def test_models_pass_through(dev_proxy):
    base, _ = dev_proxy()
    models = client(base).models.list()
    assert [m.id for m in models.data] == [MODEL]


@pytest.mark.parametrize("mock_args", [(), ("--split-writes",)], ids=["plain", "split-writes"])
def test_httpx_exact_bytes_streaming(dev_proxy, mock_args):
    """Our own request bytes (odd spacing, unicode) are hashed as sent, not re-serialized."""
    base, _ = dev_proxy(*mock_args)
    request_bytes = (
        '{ "model" : "tiny", "messages": [{"role":"user","content":"h\u00e9llo \\u00e9"}],'
        ' "max_tokens": 12, "stream": true, "stream_options": {"include_usage": true} }'
    ).encode()
    with httpx.Client(timeout=30) as http:
        with http.stream(
            "POST", f"{base}/v1/chat/completions", content=request_bytes,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            body = b"".join(response.iter_raw())
    check_signatures(base, request_bytes, body, streamed=True)


def test_format_b_signed_text(start_mock, start_proxy):
    upstream = start_mock()
    base, _ = start_proxy(upstream, "--dev", env={"SIGNING_TEXT_FORMAT": "model"})
    request_bytes = json.dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": 4}).encode()
    r = httpx.post(
        f"{base}/v1/chat/completions", content=request_bytes,
        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30,
    )
    assert r.status_code == 200
    check_signatures(base, request_bytes, r.content, streamed=False, model_prefix=True)


def test_seeded_dev_keys_are_stable(start_mock, start_proxy):
    upstream = start_mock()
    addresses = []
    for _ in range(2):
        base, proc = start_proxy(upstream, "--dev", "--dev-key-seed", "interop-seed")
        r = httpx.post(
            f"{base}/v1/chat/completions", json={"model": MODEL, "messages": MESSAGES, "max_tokens": 2},
            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30,
        )
        chat_id = r.json()["id"]
        sig = httpx.get(f"{base}/v1/signature/{chat_id}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        addresses.append(sig.json()["signing_address"])
        proc.stop()
    assert addresses[0] == addresses[1]
