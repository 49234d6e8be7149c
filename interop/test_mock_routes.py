"""The official SDKs read mock-vllm's Responses, Messages and embeddings answers directly, without the
proxy: the framing the proxy is tested against is one real clients accept (vLLM 0.32's, see
Fixtures/vllm-routes)."""

import anthropic
import httpx
import openai

from conftest import MODEL


def openai_client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=30)


def anthropic_client(base: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key="unused", max_retries=0, timeout=30)


def test_openai_responses(start_mock):
    base = start_mock()
    client = openai_client(base)
    response = client.responses.create(model=MODEL, input="Say hello", max_output_tokens=8, temperature=0)
    assert response.id.startswith("resp_")
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text
    assert response.usage.output_tokens == 8
    # Stored: the SDK's retrieve reads it back.
    assert client.responses.retrieve(response.id).id == response.id

    events = list(client.responses.create(model=MODEL, input="Say hello", max_output_tokens=6, stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert {event.response.id for event in events if hasattr(event, "response")} == {events[0].response.id}
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == events[-1].response.output_text


def test_anthropic_messages(start_mock):
    base = start_mock()
    client = anthropic_client(base)
    message = client.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert message.id.startswith("chatcmpl-")
    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.usage.output_tokens == 8

    with client.messages.stream(model=MODEL, max_tokens=6, messages=[{"role": "user", "content": "hi"}]) as stream:
        final = stream.get_final_message()
    assert final.id.startswith("chatcmpl-")
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 6

    count = client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert count.input_tokens > 0


def test_openai_embeddings(start_mock):
    base = start_mock()
    client = openai_client(base)
    # The SDK asks for base64 and decodes it: both encodings are exercised.
    result = client.embeddings.create(model=MODEL, input=["hello", "world"])
    assert len(result.data) == 2 and all(len(item.embedding) == 128 for item in result.data)
    floats = client.embeddings.create(model=MODEL, input="hello", encoding_format="float")
    assert floats.data[0].embedding == result.data[0].embedding


def test_audio_transcription_with_openai_sdk(start_mock):
    base = start_mock()
    client = openai_client(base)
    transcription = client.audio.transcriptions.create(model=MODEL, file=("a.wav", b"RIFF" + b"\0" * 64000))
    assert transcription.text
    chunks = list(
        client.audio.transcriptions.create(model=MODEL, file=("a.wav", b"RIFF" + b"\0" * 100), stream=True)
    )
    assert chunks


def test_unknown_model_errors_differ_by_api(start_mock):
    base = start_mock()
    responses = httpx.post(f"{base}/v1/responses", json={"model": "nope", "input": "x"})
    messages = httpx.post(
        f"{base}/v1/messages", json={"model": "nope", "max_tokens": 6, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert responses.status_code == messages.status_code == 404
    assert set(responses.json()) == {"error"} and responses.json()["error"]["code"] == 404
    assert messages.json()["type"] == "error" and set(messages.json()["error"]) == {"type", "message"}
    with open_fixture("error-responses-unknown-model.body") as f:
        assert responses.content == f.read()


def open_fixture(name: str):
    from conftest import FIXTURES

    return open(FIXTURES / "vllm-routes" / name, "rb")
