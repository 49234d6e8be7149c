"""Inline receipts (docs/API.md, Inline receipts): a signed answer carries its own signatures, in headers or in
SSE comment lines after its last event. Each is verified here from the bytes the client received alone, with
eth-account and cryptography, and no /v1/signature call; the official SDKs must read the answers unchanged."""

import hashlib
import json

import anthropic
import httpx
import openai
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eth_account import Account
from eth_account.messages import encode_defunct

from conftest import MODEL, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ASK = {"X-Signing-Receipt": "inline"}
PREFIX = b": signature "


def check_text(text: str, request: bytes, response: bytes):
    assert text == f"{hashlib.sha256(request).hexdigest()}:{hashlib.sha256(response).hexdigest()}"


def check_ecdsa(text: str, signature: str, address: str):
    recovered = Account.recover_message(encode_defunct(text=text), signature=signature)
    assert recovered == address


def check_ed25519(text: str, signature: str, public_key: str):
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(bytes.fromhex(signature), text.encode())


def check_headers(request: bytes, response: httpx.Response):
    """A non-streamed answer: the receipt is in its headers; the body is what was signed."""
    h = response.headers
    text = h["X-Signature-Text"]
    check_text(text, request, response.content)
    check_ecdsa(text, h["X-Signature-Ecdsa"], h["X-Signing-Address"])
    check_ed25519(text, h["X-Signature-Ed25519"], h["X-Signing-Public-Key-Ed25519"])
    return h["X-Signing-Address"]


def split_stream(body: bytes) -> tuple[bytes, list[dict]]:
    """A stream's receipt: its trailing `: signature {json}` lines and blank line; the signed bytes before them."""
    assert body.endswith(b"\n\n"), body[-80:]
    records = []
    cut = len(body) - 1  # the blank line's "\n"; the line before it ends at cut - 1
    while True:
        start = body.rfind(b"\n", 0, cut - 1) + 1
        line = body[start:cut - 1]
        if not line.startswith(PREFIX):
            break
        records.insert(0, json.loads(line[len(PREFIX):]))
        cut = start
    assert records, "no receipt lines"
    signed = body[:cut]
    assert signed.endswith(b"\n\n")
    return signed, records


def check_stream(request: bytes, body: bytes):
    signed, records = split_stream(body)
    assert [r["signing_algo"] for r in records] == ["ecdsa", "ed25519"]
    for record in records:
        check_text(record["text"], request, signed)
    check_ecdsa(records[0]["text"], records[0]["signature"], records[0]["signing_address"])
    check_ed25519(records[1]["text"], records[1]["signature"], records[1]["signing_address"])
    return signed, records


def test_non_streamed_answers_carry_headers_unasked_when_signing_eagerly(dev_proxy):
    base, _ = dev_proxy()
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=30)
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    completion = raw.parse()
    assert completion.choices[0].message.content
    check_headers(raw.http_request.content, raw.http_response)
    # The same record is what /v1/signature serves.
    looked_up = httpx.get(f"{base}/v1/signature/{completion.id}", headers=AUTH, timeout=10).json()
    assert looked_up["signature"] == raw.http_response.headers["X-Signature-Ecdsa"]
    embedding = client.embeddings.with_raw_response.create(model=MODEL, input="hello")
    assert embedding.parse().data[0].embedding
    check_headers(embedding.http_request.content, embedding.http_response)


@pytest.mark.parametrize("path,body", [
    ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": True}),
    ("/v1/completions", {"model": MODEL, "prompt": "hi", "max_tokens": 6, "stream": True}),
    ("/v1/responses", {"model": MODEL, "input": "hi", "max_output_tokens": 6, "stream": True}),
    ("/v1/messages", {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": True}),
], ids=["chat", "completions", "responses", "messages"])
def test_streams_carry_a_receipt_when_asked(dev_proxy, path, body):
    base, _ = dev_proxy()
    request = json.dumps(body).encode()
    with httpx.Client(timeout=30) as http:
        plain = http.post(base + path, content=request, headers={**AUTH, "Content-Type": "application/json"})
        assert plain.status_code == 200 and PREFIX not in plain.content
        asked = http.post(base + path, content=request, headers={**AUTH, **ASK, "Content-Type": "application/json"})
    assert asked.status_code == 200
    signed, records = check_stream(request, asked.content)
    assert "X-Signature-Text" not in asked.headers


def test_lazy_signing_gives_receipts_only_when_asked(start_mock, start_proxy):
    base, _ = start_proxy(start_mock(), "--dev", env={"SIGNING_MODE": "lazy"})
    request = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).encode()
    with httpx.Client(timeout=30) as http:
        unasked = http.post(base + "/v1/chat/completions", content=request, headers={**AUTH, "Content-Type": "application/json"})
        assert unasked.status_code == 200 and "X-Signature-Text" not in unasked.headers
        asked = http.post(base + "/v1/chat/completions", content=request, headers={**AUTH, **ASK, "Content-Type": "application/json"})
    check_headers(request, asked)


def test_sdks_read_answers_with_receipts_unchanged(dev_proxy):
    base, _ = dev_proxy()
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=30, default_headers=ASK)
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=6, stream=True))
    assert chunks and "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    events = list(client.responses.create(model=MODEL, input="hi", max_output_tokens=6, stream=True))
    assert events[-1].type == "response.completed"
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    assert completion.choices[0].message.content
    claude = anthropic.Anthropic(base_url=base, default_headers={"X-Api-Key": TOKEN, **ASK}, max_retries=0, timeout=30)
    with claude.messages.stream(model=MODEL, max_tokens=6, messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.id


def test_a_bad_receipt_request_is_refused_before_upstream(dev_proxy):
    base, _ = dev_proxy()
    answer = httpx.post(
        base + "/v1/chat/completions", json={"model": MODEL, "messages": []},
        headers={**AUTH, "X-Signing-Receipt": "please"}, timeout=10)
    assert answer.status_code == 400
    assert "X-Signing-Receipt" in answer.json()["error"]["message"]
