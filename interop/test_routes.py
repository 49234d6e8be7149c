"""The proxy's new routes, through signing-proxy --dev in front of mock-vllm, with the official clients:
openai (Responses, embeddings), anthropic (Messages, key in x-api-key) and httpx for exact bytes. Every
signature is verified from the bytes the client sent and received (verify.py: sha256 of each, the signed
text `reqhash:resphash`, EIP-191 recovery with eth-account, ed25519 with cryptography)."""

import json
import time

import anthropic
import httpx
import openai
import pytest

from conftest import MODEL, TOKEN
from verify import answer_id, check_signatures

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MESSAGES = [{"role": "user", "content": "hi"}]
SPLITS = pytest.mark.parametrize("mock_args", [(), ("--split-writes",)], ids=["plain", "split-writes"])


def openai_client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TOKEN, max_retries=0, timeout=30)


def anthropic_client(base: str) -> anthropic.Anthropic:
    """The key in `x-api-key` only, as Anthropic's API takes it (the installed SDK sends `api_key=` as a
    bearer token; `test_messages_sdk_api_key_argument` covers that form)."""
    return anthropic.Anthropic(base_url=base, default_headers={"X-Api-Key": TOKEN}, max_retries=0, timeout=30)


def event_names(body: bytes) -> list[str]:
    return [line[len(b"event: "):].decode() for line in body.split(b"\n") if line.startswith(b"event: ")]


def signature_status(base: str, signed_id: str) -> int:
    return httpx.get(f"{base}/v1/signature/{signed_id}", headers=AUTH, timeout=10).status_code


# MARK: - Responses API (openai SDK)


@SPLITS
def test_responses_sdk_non_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    raw = openai_client(base).responses.with_raw_response.create(model=MODEL, input="Say hello", max_output_tokens=8)
    response = raw.parse()
    assert response.id.startswith("resp_") and response.output_text
    body = raw.http_response.content
    assert answer_id(body, streamed=False) == response.id
    check_signatures(base, raw.http_request.content, body, streamed=False, signed_id=response.id)


@SPLITS
def test_responses_sdk_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    client = openai_client(base)
    # The SDK's own event parser accepts what the proxy forwards.
    events = list(client.responses.create(model=MODEL, input="Say hello", max_output_tokens=6, stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    # And the exact bytes it received verify.
    with client.responses.with_streaming_response.create(
        model=MODEL, input="Say hello", max_output_tokens=6, stream=True
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    names = event_names(body)
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert b"[DONE]" not in body
    signed_id = answer_id(body, streamed=True)
    assert signed_id.startswith("resp_")
    check_signatures(base, request_bytes, body, streamed=True, signed_id=signed_id)


def test_responses_httpx_exact_bytes(dev_proxy):
    """Odd spacing and escapes in the request are hashed as sent, not re-serialized."""
    base, _ = dev_proxy()
    request_bytes = b'{ "model" : "tiny", "input": "h\\u00e9llo \xc3\xa9", "max_output_tokens": 5, "stream": true }'
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{base}/v1/responses", content=request_bytes, headers=AUTH) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            body = b"".join(response.iter_raw())
    check_signatures(base, request_bytes, body, streamed=True, signed_id=answer_id(body, streamed=True))


def test_stored_response_get_is_pass_through_and_never_resigned(dev_proxy):
    base, _ = dev_proxy()
    request_bytes = json.dumps({"model": MODEL, "input": "hello", "max_output_tokens": 4}).encode()
    created = httpx.post(f"{base}/v1/responses", content=request_bytes, headers=AUTH, timeout=30)
    assert created.status_code == 200
    response_id = created.json()["id"]
    before = check_signatures(base, request_bytes, created.content, streamed=False, signed_id=response_id)

    fetched = httpx.get(f"{base}/v1/responses/{response_id}", headers=AUTH, timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == created.content
    cancel = httpx.post(f"{base}/v1/responses/{response_id}/cancel", headers=AUTH, timeout=30)
    assert cancel.status_code == 400
    assert cancel.json()["error"]["message"] == "Cannot cancel a synchronous response."
    # The GET and the cancel neither replaced nor added a signature under that id.
    after = check_signatures(base, request_bytes, created.content, streamed=False, signed_id=response_id)
    assert after["text"] == before["text"] and after["signature"] == before["signature"]
    assert httpx.get(f"{base}/v1/responses/{response_id}", timeout=30).status_code == 401


# MARK: - Messages API (anthropic SDK)


@SPLITS
def test_messages_sdk_non_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    raw = anthropic_client(base).messages.with_raw_response.create(model=MODEL, max_tokens=8, messages=MESSAGES)
    # The SDK sends the key as x-api-key, never as a bearer token.
    assert raw.http_request.headers["x-api-key"] == TOKEN
    assert "authorization" not in raw.http_request.headers
    message = raw.parse()
    assert message.id.startswith("chatcmpl-") and message.content[0].text
    check_signatures(base, raw.http_request.content, raw.read(), streamed=False, signed_id=message.id)


@SPLITS
def test_messages_sdk_streaming(dev_proxy, mock_args):
    base, _ = dev_proxy(*mock_args)
    client = anthropic_client(base)
    with client.messages.stream(model=MODEL, max_tokens=6, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "max_tokens"
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=6, messages=MESSAGES, stream=True
    ) as response:
        body = b"".join(response.iter_bytes())
        request_bytes = response.http_request.content
    names = event_names(body)
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert b"[DONE]" not in body
    check_signatures(base, request_bytes, body, streamed=True, signed_id=answer_id(body, streamed=True))


def test_messages_sdk_api_key_argument(dev_proxy):
    base, _ = dev_proxy()
    client = anthropic.Anthropic(base_url=base, api_key=TOKEN, max_retries=0, timeout=30)
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=4, messages=MESSAGES)
    check_signatures(base, raw.http_request.content, raw.read(), streamed=False, signed_id=raw.parse().id)


def test_messages_count_tokens(dev_proxy):
    base, _ = dev_proxy()
    count = anthropic_client(base).messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert count.input_tokens > 0


# MARK: - Pooling routes


def test_embeddings_sdk(dev_proxy):
    base, _ = dev_proxy()
    # The SDK asks for base64 and decodes it.
    raw = openai_client(base).embeddings.with_raw_response.create(model=MODEL, input=["hello", "world"])
    result = raw.parse()
    assert len(result.data) == 2 and len(result.data[0].embedding) == 128
    body = raw.http_response.content
    signed_id = answer_id(body, streamed=False)
    assert signed_id.startswith("embd-")
    check_signatures(base, raw.http_request.content, body, streamed=False, signed_id=signed_id)


@pytest.mark.parametrize(
    "path,request_body,prefix",
    [
        ("/v1/rerank", {"model": MODEL, "query": "a", "documents": ["b", "c"]}, "score-"),
        ("/rerank", {"model": MODEL, "query": "a", "documents": ["b", "c"], "top_n": 1}, "score-"),
        ("/v2/rerank", {"model": MODEL, "query": "a", "documents": ["b", "c"]}, "score-"),
        ("/v1/score", {"model": MODEL, "text_1": "a", "text_2": "b"}, "score-"),
        ("/score", {"model": MODEL, "text_1": "a", "text_2": ["b", "c"]}, "score-"),
        ("/v1/embeddings", {"model": MODEL, "input": "hello", "encoding_format": "float"}, "embd-"),
        ("/pooling", {"model": MODEL, "input": "hello"}, "pooling-"),
        ("/classify", {"model": MODEL, "input": ["a", "b"]}, "classify-"),
    ],
)
def test_pooling_routes_httpx(dev_proxy, path, request_body, prefix):
    base, _ = dev_proxy()
    request_bytes = json.dumps(request_body, separators=(", ", " : ")).encode()
    r = httpx.post(f"{base}{path}", content=request_bytes, headers=AUTH, timeout=30)
    assert r.status_code == 200, r.text
    signed_id = answer_id(r.content, streamed=False)
    assert signed_id.startswith(prefix)
    check_signatures(base, request_bytes, r.content, streamed=False, signed_id=signed_id)


def test_tokenize_is_authenticated_and_unsigned(dev_proxy):
    base, _ = dev_proxy()
    tokenized = httpx.post(f"{base}/tokenize", json={"model": MODEL, "prompt": "hello world"}, headers=AUTH, timeout=30)
    assert tokenized.status_code == 200
    assert set(tokenized.json()) == {"count", "max_model_len", "tokens", "token_strs"}
    detokenized = httpx.post(
        f"{base}/detokenize", json={"model": MODEL, "tokens": tokenized.json()["tokens"]}, headers=AUTH, timeout=30
    )
    assert detokenized.status_code == 200 and detokenized.json() == {"prompt": "hello world"}
    assert httpx.post(f"{base}/tokenize", json={"model": MODEL, "prompt": "x"}, timeout=30).status_code == 401


# MARK: - What the proxy refuses


def test_admin_and_unknown_routes_are_404_and_never_forwarded(dev_proxy, tmp_path):
    log = tmp_path / "upstream.jsonl"
    base, _ = dev_proxy("--request-log", str(log))
    refused = [
        ("POST", "/sleep"), ("POST", "/wake_up"), ("GET", "/is_sleeping"), ("POST", "/reset_prefix_cache"),
        ("POST", "/scale_elastic_ep"), ("POST", "/load_lora_adapter"), ("POST", "/unload_lora_adapter"),
        ("POST", "/collective_rpc"), ("POST", "/v1/no/such/route"), ("GET", "/v1/nope"),
    ]
    for method, path in refused:
        r = httpx.request(method, f"{base}{path}", headers=AUTH, timeout=30)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.content != b'{"detail":"Not Found"}', f"{path} reached the upstream"
    # One request that is forwarded, so the log exists, then nothing refused in it.
    assert httpx.post(f"{base}/tokenize", json={"prompt": "x"}, headers=AUTH, timeout=30).status_code == 200
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    forwarded = [json.loads(line)["path"] for line in log.read_text().splitlines()]
    assert "/tokenize" in forwarded
    assert not set(forwarded) & {path for _, path in refused}


def test_responses_and_messages_need_a_token(dev_proxy):
    base, _ = dev_proxy()
    body = {"model": MODEL, "input": "x"}
    assert httpx.post(f"{base}/v1/responses", json=body, timeout=30).status_code == 401
    assert httpx.post(f"{base}/v1/responses", json=body, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    messages = {"model": MODEL, "max_tokens": 4, "messages": MESSAGES}
    assert httpx.post(f"{base}/v1/messages", json=messages, headers={"x-api-key": "wrong"}, timeout=30).status_code == 401
    assert httpx.post(f"{base}/v1/messages", json=messages, headers={"x-api-key": TOKEN}, timeout=30).status_code == 200


def test_upstream_errors_pass_through_in_each_apis_shape(dev_proxy):
    base, _ = dev_proxy()
    responses = httpx.post(f"{base}/v1/responses", json={"model": "nope", "input": "x"}, headers=AUTH, timeout=30)
    messages = httpx.post(
        f"{base}/v1/messages", json={"model": "nope", "max_tokens": 6, "messages": MESSAGES},
        headers={"x-api-key": TOKEN}, timeout=30,
    )
    from conftest import FIXTURES

    assert responses.status_code == messages.status_code == 404
    # vLLM's own bytes, unchanged (the mock reproduces the captures byte for byte).
    assert responses.content == (FIXTURES / "vllm-routes" / "error-responses-unknown-model.body").read_bytes()
    assert messages.content == (FIXTURES / "vllm-routes" / "error-messages-unknown-model.body").read_bytes()


# MARK: - Streams that do not end cleanly are never signed

STREAMS = {
    "responses": ("/v1/responses", {"model": MODEL, "input": "x", "max_output_tokens": 40, "stream": True}),
    "messages": ("/v1/messages", {"model": MODEL, "max_tokens": 40, "messages": MESSAGES, "stream": True}),
}


def read_stream(base: str, path: str, body: dict) -> tuple[bytes, bool]:
    """What the client received, and whether its body broke off (no clean end of the chunked body)."""
    received = b""
    try:
        with httpx.Client(timeout=30) as http:
            with http.stream("POST", f"{base}{path}", json=body, headers=AUTH) as response:
                assert response.status_code == 200
                for chunk in response.iter_raw():
                    received += chunk
    except httpx.HTTPError:
        return received, True  # the cut reaches the client as a broken body
    return received, False


@pytest.mark.parametrize("api", ["responses", "messages"])
def test_stream_cut_before_terminal_event_is_not_signed(dev_proxy, api):
    base, _ = dev_proxy("--tokens", "40", "--fail-after", "4")
    path, body = STREAMS[api]
    received, broken = read_stream(base, path, body)
    assert broken, "the upstream's cut must reach the client as a broken body"
    names = event_names(received)
    assert names and "response.completed" not in names and "message_stop" not in names
    signed_id = answer_id(received, streamed=True)
    time.sleep(1)
    assert signature_status(base, signed_id) == 404


@pytest.mark.parametrize(
    "api,terminal", [("responses", "error"), ("responses", "failed"), ("messages", "error")]
)
def test_stream_ending_in_an_error_event_is_not_signed(dev_proxy, api, terminal):
    base, _ = dev_proxy("--request-faults")
    path, body = STREAMS[api]
    received, broken = read_stream(base, path, {**body, "mock_terminal": terminal})
    assert not broken
    assert event_names(received)[-1] == ("error" if terminal == "error" else "response.failed")
    time.sleep(1)
    assert signature_status(base, answer_id(received, streamed=True)) == 404


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions"])
def test_completion_stream_with_an_error_event_is_not_signed(dev_proxy, path):
    """vLLM reports a failure mid-generation as a `data: {"error": …}` event and still ends with [DONE]."""
    base, _ = dev_proxy("--request-faults")
    body = {"model": MODEL, "messages": MESSAGES, "prompt": "x", "max_tokens": 6, "stream": True, "mock_terminal": "error"}
    received, broken = read_stream(base, path, body)
    assert not broken and received.endswith(b'data: {"error":{"message":"mock-vllm: injected stream error","type":"InternalServerError","param":null,"code":500}}\n\ndata: [DONE]\n\n')
    time.sleep(1)
    assert signature_status(base, answer_id(received, streamed=True)) == 404


def test_responses_stream_ending_incomplete_is_signed(dev_proxy):
    base, _ = dev_proxy("--request-faults")
    path, body = STREAMS["responses"]
    request_bytes = json.dumps({**body, "mock_terminal": "incomplete"}).encode()
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{base}{path}", content=request_bytes, headers=AUTH) as response:
            received = b"".join(response.iter_raw())
    assert event_names(received)[-1] == "response.incomplete"
    check_signatures(base, request_bytes, received, streamed=True, signed_id=answer_id(received, streamed=True))


@pytest.mark.parametrize("api", ["responses", "messages"])
def test_client_leaving_mid_stream_is_not_signed(dev_proxy, api):
    base, _ = dev_proxy("--tokens", "100", "--delay-ms", "20")
    path, body = STREAMS[api]
    body = {**body, "max_output_tokens" if api == "responses" else "max_tokens": 100}
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{base}{path}", json=body, headers=AUTH) as response:
            first = b""
            for chunk in response.iter_raw():
                first += chunk
                if first.count(b"\n\n") >= 2:  # the first event whole, and more
                    break
    # Leaving the block closed the connection mid-stream.
    assert "response.completed" not in event_names(first) and "message_stop" not in event_names(first)
    signed_id = answer_id(first, streamed=True)
    time.sleep(4)  # longer than the rest of the stream would have taken (~2 s)
    assert signature_status(base, signed_id) == 404


# MARK: - Speech to text (multipart)


def multipart(fields: dict[str, str], boundary: str = "interop-boundary") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with a small WAV-like file, and its content type, as exact bytes."""
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'.encode()
    body += b"Content-Type: audio/wav\r\n\r\nRIFF" + bytes(range(256)) * 40 + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/translations"])
def test_audio_stream_is_signed_over_the_exact_multipart_bytes(dev_proxy, path):
    base, _ = dev_proxy()
    request_bytes, headers = multipart({"model": MODEL, "stream": "true", "stream_include_usage": "true"})
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{base}{path}", content=request_bytes, headers=headers) as response:
            assert response.status_code == 200
            body = b"".join(response.iter_raw())
    assert body.endswith(b"data: [DONE]\n\n")
    signed_id = answer_id(body, streamed=True)
    assert signed_id.startswith("transcribe-" if path.endswith("transcriptions") else "translate-")
    check_signatures(base, request_bytes, body, streamed=True, signed_id=signed_id)


def test_audio_json_answer_passes_through(dev_proxy):
    base, _ = dev_proxy()
    # The official SDK's multipart request, and vLLM's JSON answer (which has no id to sign under).
    transcription = openai_client(base).audio.transcriptions.create(model=MODEL, file=("a.wav", b"RIFF" + b"\0" * 64))
    assert transcription.text
    request_bytes, headers = multipart({"model": MODEL})
    r = httpx.post(f"{base}/v1/audio/translations", content=request_bytes, headers=headers, timeout=30)
    assert r.status_code == 200 and set(r.json()) == {"text"}
    assert httpx.post(f"{base}/v1/audio/translations", content=request_bytes, timeout=30).status_code == 401


def test_lazy_signing_mode_signs_the_new_routes(start_mock, start_proxy):
    upstream = start_mock()
    base, _ = start_proxy(upstream, "--dev", "--signing-mode", "lazy")
    exchanges = [
        ("/v1/responses", {"model": MODEL, "input": "x", "max_output_tokens": 5, "stream": True}, True),
        ("/v1/messages", {"model": MODEL, "max_tokens": 5, "messages": MESSAGES}, False),
        ("/v1/embeddings", {"model": MODEL, "input": "x", "encoding_format": "base64"}, False),
    ]
    for path, body, streamed in exchanges:
        request_bytes = json.dumps(body).encode()
        with httpx.Client(timeout=30) as http:
            with http.stream("POST", f"{base}{path}", content=request_bytes, headers=AUTH) as response:
                assert response.status_code == 200
                received = b"".join(response.iter_raw())
        check_signatures(base, request_bytes, received, streamed=streamed, signed_id=answer_id(received, streamed))
