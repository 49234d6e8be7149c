"""The Anthropic Messages API (`POST /v1/messages`) through the proxy in front of a real vLLM, with the
official anthropic SDK (base_url at the proxy): streamed and not, verified from the exact bytes; a client
that leaves mid-stream gets no signature.

The key travels as `x-api-key`, as Anthropic's SDKs and the Claude Agent SDK send it. The anthropic 2.x
release vLLM pulls sends `api_key` as `Authorization: Bearer` instead, so the key is given as a default
`x-api-key` header here (api_key None), and one test covers the Bearer form too."""

import json

import anthropic
import httpx

from conftest import MODEL, TOKEN
from signed import assert_unsigned, check_signature, leave_mid_stream, sse_events, stream_until_cut

MESSAGES = [{"role": "user", "content": "hi"}]


def client(base: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=base, api_key=None, default_headers={"x-api-key": TOKEN}, max_retries=0, timeout=120
    )


def test_key_as_x_api_key_or_bearer(proxy):
    raw = client(proxy).messages.with_raw_response.create(model=MODEL, max_tokens=4, messages=MESSAGES)
    assert raw.http_request.headers["x-api-key"] == TOKEN
    assert "authorization" not in raw.http_request.headers
    bearer = anthropic.Anthropic(base_url=proxy, api_key=TOKEN, max_retries=0, timeout=120)
    raw = bearer.messages.with_raw_response.create(model=MODEL, max_tokens=4, messages=MESSAGES)
    message = raw.parse()
    check_signature(proxy, message.id, raw.http_request.content, raw.http_response.content)


def test_messages_non_streaming(proxy):
    raw = client(proxy).messages.with_raw_response.create(
        model=MODEL, max_tokens=8, messages=MESSAGES
    )
    message = raw.parse()
    assert message.type == "message" and message.stop_reason == "max_tokens"
    check_signature(proxy, message.id, raw.http_request.content, raw.http_response.content)


def test_messages_streaming(proxy):
    c = client(proxy)
    # The SDK's own stream parser accepts the proxy's bytes.
    with c.messages.stream(model=MODEL, max_tokens=6, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens <= 6
    # And the exact bytes it received verify. The id is message.id in message_start.
    with c.messages.with_streaming_response.create(
        model=MODEL, max_tokens=6, messages=MESSAGES, stream=True
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    events = sse_events(body)
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    assert b"[DONE]" not in body
    check_signature(proxy, events[0][1]["message"]["id"], request_bytes, body)


def test_messages_needs_a_token(proxy):
    r = httpx.post(
        f"{proxy}/v1/messages", json={"model": MODEL, "max_tokens": 2, "messages": MESSAGES}, timeout=30,
        headers={"x-api-key": "wrong", "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 401


def test_count_tokens(proxy):
    count = client(proxy).messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert count.input_tokens > 0


def test_messages_client_leaves_mid_stream(proxy):
    body = json.dumps({"model": MODEL, "max_tokens": 400, "messages": MESSAGES, "stream": True}).encode()
    message_id = leave_mid_stream(
        proxy, "/v1/messages", body, lambda event: (event.get("message") or {}).get("id"),
        headers={"anthropic-version": "2023-06-01"},
    )
    assert_unsigned(proxy, message_id)


def test_messages_stream_cut_before_message_stop(cut_proxy):
    """vLLM's stream cut after message_start (by a relay between proxy and vLLM): no signature."""
    base, relay = cut_proxy(cut_after=700)
    body = json.dumps({"model": MODEL, "max_tokens": 100, "messages": MESSAGES, "stream": True}).encode()
    received = stream_until_cut(base, "/v1/messages", body, headers={"anthropic-version": "2023-06-01"})
    events = sse_events(received)
    assert events and events[0][0] == "message_start"
    assert b"message_stop" not in received and relay.cuts >= 1
    assert_unsigned(base, events[0][1]["message"]["id"])
