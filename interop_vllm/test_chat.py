"""Chat and text completions through the proxy in front of a real vLLM: the official openai SDK accepts the
proxy's bytes, and what it received verifies from the exact bytes."""

import json

import httpx
import openai

from conftest import MODEL, TOKEN
from signed import assert_unsigned, check_signature, leave_mid_stream, sse_events, stream_until_cut

MESSAGES = [{"role": "user", "content": "hello"}]


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=120)


def test_chat_non_streaming(proxy):
    raw = client(proxy).chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0
    )
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage.completion_tokens <= 8
    check_signature(proxy, completion.id, raw.http_request.content, raw.http_response.content)


def test_chat_streaming(proxy):
    c = client(proxy)
    chunks = list(c.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, stream=True, stream_options={"include_usage": True}
    ))
    assert chunks and all(ch.id == chunks[0].id for ch in chunks)
    assert chunks[-1].usage is not None
    with c.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, stream=True, stream_options={"include_usage": True}
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    assert body.endswith(b"data: [DONE]\n\n")
    chat_id = sse_events(body)[0][1]["id"]
    check_signature(proxy, chat_id, request_bytes, body)


def test_chat_exact_bytes(proxy):
    """Odd spacing and raw non-ASCII in our own bytes: hashed as sent, not re-serialised."""
    request_bytes = (
        '{ "model" : "tiny", "messages": [{"role":"user","content":"h\u00e9llo \\u00e9"}],'
        ' "max_tokens": 12, "stream": true }'
    ).encode()
    with httpx.stream(
        "POST", f"{proxy}/v1/chat/completions", content=request_bytes, timeout=120,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    ) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_raw())
    check_signature(proxy, sse_events(body)[0][1]["id"], request_bytes, body)


def test_text_completions(proxy):
    raw = client(proxy).completions.with_raw_response.create(model=MODEL, prompt="hello", max_tokens=8)
    completion = raw.parse()
    assert completion.id.startswith("cmpl-")
    check_signature(proxy, completion.id, raw.http_request.content, raw.http_response.content)


def test_chat_client_leaves_mid_stream(proxy):
    """A client that leaves before [DONE] gets no signature (vLLM keeps generating up to 400 tokens)."""
    body = json.dumps({
        "model": MODEL, "messages": MESSAGES, "max_tokens": 400, "ignore_eos": True, "stream": True,
    }).encode()
    chat_id = leave_mid_stream(proxy, "/v1/chat/completions", body, lambda event: event.get("id"))
    assert_unsigned(proxy, chat_id)


def test_vllm_error_passes_through_unsigned(proxy):
    """vLLM's own 400 (max_tokens beyond the context) reaches the client unchanged."""
    r = httpx.post(
        f"{proxy}/v1/chat/completions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
        json={"model": MODEL, "messages": MESSAGES, "max_tokens": 100000},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 400


def test_models(proxy):
    assert [m.id for m in client(proxy).models.list().data] == [MODEL]


def test_chat_stream_cut_before_done(cut_proxy):
    """vLLM's stream cut after its first events (by a relay between proxy and vLLM): no signature."""
    base, relay = cut_proxy(cut_after=900)
    body = json.dumps({
        "model": MODEL, "messages": MESSAGES, "max_tokens": 100, "ignore_eos": True, "stream": True,
    }).encode()
    received = stream_until_cut(base, "/v1/chat/completions", body)
    events = sse_events(received)
    assert events and b"[DONE]" not in received and relay.cuts >= 1
    assert_unsigned(base, events[0][1]["id"])
