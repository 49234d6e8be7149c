"""The Responses API (`POST /v1/responses`) through the proxy in front of a real vLLM, with the official
openai SDK: streamed and not, each verified from the exact bytes; a stored response read back leaves the
signature as it was; a client that leaves mid-stream gets none."""

import json

import httpx
import openai
import pytest

from conftest import MODEL, TOKEN
from signed import AUTH, assert_unsigned, check_signature, leave_mid_stream, sse_events, stream_until_cut

# A JSON-schema format whose only value is "hello": the grammar makes the random model stop on its own, so
# the answer is `completed` rather than cut by max_output_tokens (`incomplete`).
HELLO_ONLY = {"format": {"type": "json_schema", "name": "greeting", "schema": {"type": "string", "enum": ["hello"]}}}


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=120)


@pytest.mark.parametrize("text", [None, HELLO_ONLY], ids=["cut-by-max-tokens", "completed"])
def test_responses_non_streaming(proxy, text):
    extra = {"text": text} if text else {}
    raw = client(proxy).responses.with_raw_response.create(
        model=MODEL, input="Say hello", max_output_tokens=16 if text else 8, temperature=0, **extra
    )
    response = raw.parse()
    assert response.id.startswith("resp_")
    assert response.status == ("completed" if text else "incomplete")
    check_signature(proxy, response.id, raw.http_request.content, raw.http_response.content)


@pytest.mark.parametrize("text", [None, HELLO_ONLY], ids=["cut-by-max-tokens", "completed"])
def test_responses_streaming(proxy, text):
    extra = {"text": text} if text else {}
    c = client(proxy)
    # The SDK's own event parser accepts the proxy's bytes.
    # "hello" with its quotes is 7 tokens of the tiny model's vocabulary.
    limit = 16 if text else 6
    events = list(c.responses.create(
        model=MODEL, input="Say hello", max_output_tokens=limit, temperature=0, stream=True, **extra
    ))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    # And the exact bytes it received verify. The id is nested: response.id of the first event.
    with c.responses.with_streaming_response.create(
        model=MODEL, input="Say hello", max_output_tokens=limit, temperature=0, stream=True, **extra
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    parsed = sse_events(body)
    assert b"[DONE]" not in body
    assert parsed[0][0] == "response.created" and parsed[-1][0] == "response.completed"
    assert parsed[-1][1]["response"]["status"] == ("completed" if text else "incomplete")
    check_signature(proxy, parsed[0][1]["response"]["id"], request_bytes, body)


def test_responses_exact_bytes(proxy):
    request_bytes = '{"input": "h\u00e9llo",  "model":"tiny", "max_output_tokens": 4, "stream": true}'.encode()
    with httpx.stream(
        "POST", f"{proxy}/v1/responses", content=request_bytes, timeout=120,
        headers={**AUTH, "Content-Type": "application/json"},
    ) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_raw())
    check_signature(proxy, sse_events(body)[0][1]["response"]["id"], request_bytes, body)


def test_stored_response_read_back_keeps_its_signature(proxy):
    """GET /v1/responses/{id} is an authenticated pass-through: it answers the stored response and never
    creates or replaces the signature made when the response was created."""
    c = client(proxy)
    raw = c.responses.with_raw_response.create(model=MODEL, input="Say hello", max_output_tokens=4, store=True)
    created = raw.parse()
    before = check_signature(proxy, created.id, raw.http_request.content, raw.http_response.content)
    again = httpx.get(f"{proxy}/v1/responses/{created.id}", headers=AUTH, timeout=60)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == created.id
    assert c.responses.retrieve(created.id).id == created.id
    # Cancelling a finished response is vLLM's 400, passed through.
    cancel = httpx.post(f"{proxy}/v1/responses/{created.id}/cancel", headers=AUTH, timeout=60)
    assert cancel.status_code == 400, cancel.text
    after = httpx.get(f"{proxy}/v1/signature/{created.id}", headers=AUTH, timeout=10).json()
    assert after == before
    assert httpx.get(f"{proxy}/v1/responses/{created.id}", timeout=10).status_code == 401


def test_responses_needs_a_token(proxy):
    r = httpx.post(f"{proxy}/v1/responses", json={"model": MODEL, "input": "x"}, timeout=30)
    assert r.status_code == 401
    r = httpx.post(
        f"{proxy}/v1/responses", json={"model": MODEL, "input": "x"}, timeout=30,
        headers={"Authorization": "Bearer wrong"},
    )
    assert r.status_code == 401


def test_responses_error_passes_through_unsigned(proxy):
    """vLLM's 404 for an unknown model reaches the client unchanged."""
    r = httpx.post(f"{proxy}/v1/responses", content=b'{"model":"nope","input":"x"}', headers=AUTH, timeout=60)
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "NotFoundError"


def test_responses_client_leaves_mid_stream(proxy):
    body = json.dumps({"model": MODEL, "input": "Say hello", "max_output_tokens": 400, "stream": True}).encode()
    response_id = leave_mid_stream(
        proxy, "/v1/responses", body, lambda event: (event.get("response") or {}).get("id")
    )
    assert_unsigned(proxy, response_id)


def test_responses_stream_cut_before_completed(cut_proxy):
    """vLLM's stream cut after its first events (by a relay between proxy and vLLM): no signature."""
    base, relay = cut_proxy(cut_after=3000)
    body = json.dumps({"model": MODEL, "input": "Say hello", "max_output_tokens": 100, "stream": True}).encode()
    received = stream_until_cut(base, "/v1/responses", body)
    events = sse_events(received)
    assert events and events[0][0] == "response.created"
    assert b"response.completed" not in received and relay.cuts >= 1
    assert_unsigned(base, events[0][1]["response"]["id"])
