"""The pooling routes through the proxy in front of a real vLLM pooling server (`--runner pooling
--convert embed`): embeddings with the official openai SDK, rerank, score and pooling with httpx, each
verified from the exact bytes; and the tokenizer routes, authenticated and unsigned."""

import httpx
import openai
import pytest

from conftest import EMBED_MODEL, MODEL, TOKEN
from signed import AUTH, check_signature


def test_embeddings_sdk(embed_proxy):
    c = openai.OpenAI(base_url=f"{embed_proxy}/v1", api_key=TOKEN, max_retries=0, timeout=120)
    for encoding in ("float", "base64"):
        raw = c.embeddings.with_raw_response.create(
            model=EMBED_MODEL, input=["hello", "world"], encoding_format=encoding
        )
        embeddings = raw.parse()
        assert embeddings.data[0].embedding and len(embeddings.data) == 2
        exchange_id = raw.http_response.json()["id"]
        assert exchange_id.startswith("embd-")
        check_signature(embed_proxy, exchange_id, raw.http_request.content, raw.http_response.content)


@pytest.mark.parametrize(
    "path,body,prefix",
    [
        ("/v1/rerank", b'{"model":"tiny-embed","query":"a","documents":["b","c"]}', "score-"),
        ("/rerank", b'{"model":"tiny-embed","query":"a","documents":["b","c"]}', "score-"),
        ("/v2/rerank", b'{"model":"tiny-embed","query":"a","documents":["b","c"]}', "score-"),
        ("/v1/score", b'{"model":"tiny-embed","text_1":"a","text_2":"b"}', "score-"),
        ("/score", b'{"model":"tiny-embed", "text_1":"a", "text_2":["b","c"]}', "score-"),
        ("/pooling", b'{"model":"tiny-embed","input":"hello"}', "pooling-"),
        ("/v1/embeddings", b'{"input": "h\xc3\xa9llo", "model": "tiny-embed"}', "embd-"),
    ],
)
def test_signed_pooling_routes(embed_proxy, path, body, prefix):
    r = httpx.post(f"{embed_proxy}{path}", content=body, headers={**AUTH, "Content-Type": "application/json"},
                   timeout=120)
    assert r.status_code == 200, r.text
    exchange_id = r.json()["id"]
    assert exchange_id.startswith(prefix)
    check_signature(embed_proxy, exchange_id, body, r.content)


def test_pooling_routes_need_a_token(embed_proxy):
    for path in ("/v1/embeddings", "/v1/rerank", "/v1/score"):
        r = httpx.post(f"{embed_proxy}{path}", json={"model": EMBED_MODEL, "input": "x"}, timeout=30)
        assert r.status_code == 401, path


def test_tokenize_and_detokenize(proxy, vllm_url):
    """Authenticated pass-through, unsigned (the answers have no id): the same bytes as vLLM's own."""
    body = b'{"model":"tiny","prompt":"hello world"}'
    json_type = {"Content-Type": "application/json"}
    via_proxy = httpx.post(f"{proxy}/tokenize", content=body, headers={**AUTH, **json_type}, timeout=60)
    direct = httpx.post(f"{vllm_url}/tokenize", content=body, headers=json_type, timeout=60)
    assert via_proxy.status_code == 200, via_proxy.text
    assert via_proxy.content == direct.content
    tokens = via_proxy.json()["tokens"]
    back = httpx.post(f"{proxy}/detokenize", json={"model": MODEL, "tokens": tokens}, headers=AUTH, timeout=60)
    assert back.status_code == 200
    assert back.json()["prompt"] == "hello world"
    assert httpx.post(f"{proxy}/tokenize", content=body, headers=json_type, timeout=30).status_code == 401
