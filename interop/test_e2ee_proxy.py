"""E2EE end to end against `serve` with keys from the dstack simulator, in front of `mock-vllm --echo`.

The client here is independent of the Swift code: e2ee_reference.py's ciphers (cryptography, PyNaCl) and AAD,
driven as each dialect's own clients drive them (docs/E2EE.md names their sources). For every dialect and suite,
streamed and not, on each route the dialect covers: the answer opens, the mock received plaintext (its request log
keeps each body: the decrypted fields are there, no ciphertext), and both signatures fetched from /v1/signature
verify with eth-account and cryptography over sha256(request bytes sent):sha256(response bytes received), the
ciphertext bytes on the wire. Bad inputs get their dialect's 400 type and reach nothing upstream. The proxy runs
with LOG_LEVEL=trace, and no plaintext prompt may appear in its log.

`signing-proxy verify chat --e2ee` runs against the same stack for every dialect and suite: its own encryption,
the answer it opens, and its signature checks over the wire bytes.
"""

import hashlib
import json
import os
import secrets
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import e2ee_reference as ref
from conftest import FIXTURES, MODEL, TOKEN, Process, bin_path, free_port, wait_http
from verify import answer_id, check_signatures

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIM_FIXTURES = FIXTURES / "dstack"
# Every prompt sent encrypted; none of them may show up in the proxy's log.
SECRETS_SENT: list[str] = []


# MARK: - The stack: dstack-simulator, mock-vllm --echo with a body log, serve (LOG_LEVEL=trace)


@dataclass
class Stack:
    base: str
    request_log: Path
    proxy: Process
    keys: dict

    def upstream_requests(self) -> list[dict]:
        if not self.request_log.exists():
            return []
        return [json.loads(line) for line in self.request_log.read_text().splitlines() if line.strip()]

    def completion_requests(self) -> list[dict]:
        return [r for r in self.upstream_requests() if r["method"] == "POST"]


@pytest.fixture(scope="module")
def stack():
    tmp = Path(tempfile.mkdtemp(prefix="e2ee-"))
    socket_path = str(tmp / "dstack.sock")
    started = []
    try:
        simulator = Process([bin_path("dstack-simulator"), "--socket", socket_path, "--fixtures", str(SIM_FIXTURES)])
        started.append(simulator)
        deadline = time.monotonic() + 30
        while not os.path.exists(socket_path):
            assert time.monotonic() < deadline, simulator.stderr()
            time.sleep(0.05)
        request_log = tmp / "upstream.jsonl"
        mock = Process([bin_path("mock-vllm"), "--port", "0", "--model", MODEL, "--tokens", "4", "--echo",
                        "--request-log", str(request_log), "--request-log-bodies"])
        started.append(mock)
        upstream = mock.read_line_matching(r"listening on (http://\S+)").group(1)
        port = free_port()
        proxy = Process(
            [bin_path("signing-proxy"), "serve", "--host", "127.0.0.1", "--port", str(port), "--upstream", upstream,
             "--model-name", MODEL, "--token", TOKEN, "--dstack-endpoint", socket_path],
            # No GPU evidence (as on this machine): verify chat then fails only the simulated quote's signature.
            env={"GPU_NO_HW_MODE": "0", "LOG_LEVEL": "trace"},
        )
        started.append(proxy)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/", proc=proxy)
        yield Stack(base=base, request_log=request_log, proxy=proxy, keys=model_keys(base))
    finally:
        for process in reversed(started):
            process.stop()


def model_keys(base: str) -> dict:
    """The model keys as clients take them from the attestation report: `signing_public_key` per algorithm (DV,
    NEAR) and ACI's `e2ee_public_keys` entries by `algo`."""
    keys = {"aci": {}}
    for algo in ("ecdsa", "ed25519"):
        report = httpx.get(f"{base}/v1/attestation/report",
                           params={"signing_algo": algo, "nonce": secrets.token_hex(32)}, headers=AUTH, timeout=30)
        assert report.status_code == 200, report.text
        document = report.json()
        keys[algo] = document["signing_public_key"]
        for entry in document.get("e2ee_public_keys") or []:
            keys["aci"][entry["algo"]] = entry["public_key"]
    return keys


@pytest.fixture(scope="module")
def wired(stack):
    """The stack, once an encrypted request is answered (its report publishes ACI's keys)."""
    client = Client("dv1", "ecdsa", stack.keys)
    answer = post(stack, "/v1/chat/completions", client, chat_request(client, secret_prompt("probe"), stream=False))
    assert answer.status_code == 200, answer.text
    assert set(stack.keys["aci"]) == {ref.ACI_X_ALGO, ref.ACI_SECP_ALGO}, stack.keys
    return stack


# MARK: - An independent client of every dialect


def random_secp256k1() -> bytes:
    return ec.generate_private_key(ec.SECP256K1()).private_numbers().private_value.to_bytes(32, "big")


class Client:
    """One request's worth of a dialect's client: its keys, headers, sealed request fields and opened answers.

    dialect: dv1, dv2, near1, near1-implicit (no version header, as NEAR's published client sends), near2, aci.
    algo: ecdsa / ed25519 (DV, NEAR); x25519 / secp256k1 (ACI's suites).
    """

    def __init__(self, dialect: str, algo: str, keys: dict, all_fields: bool = False, model_key: str | None = None):
        self.dialect, self.algo, self.all_fields = dialect, algo, all_fields
        self.nonce = self.ts = None
        if dialect == "aci":
            self.aci_algo = ref.ACI_X_ALGO if algo == "x25519" else ref.ACI_SECP_ALGO
            self.model_key = keys["aci"][self.aci_algo]
            self.recipient = bytes.fromhex(self.model_key)
            if algo == "x25519":
                self.suite = "aci-x25519"
                self.secret = secrets.token_bytes(32)
                self.client_key = ref.x25519_public(self.secret).hex()
            else:
                self.suite = "aci-secp256k1"
                self.secret = random_secp256k1()
                self.client_key = ref.secp_public_uncompressed(ref.secp_private(self.secret)).hex()
            self.nonce, self.ts = secrets.token_hex(32), int(time.time())
        else:
            self.model_key = keys[algo]
            if algo == "ecdsa":
                self.suite = "legacy-ecdsa"
                self.secret = random_secp256k1()
                self.client_key = ref.secp_public_uncompressed(ref.secp_private(self.secret))[1:].hex()
                self.recipient = b"\x04" + bytes.fromhex(self.model_key)
            else:
                seed = secrets.token_bytes(32)
                self.secret = ref.ed25519_seed_to_x25519(seed)
                self.client_key = ref.ed25519_public(seed).hex()
                self.recipient = ref.ed25519_pub_to_x25519(bytes.fromhex(self.model_key))
                self.suite = {"near1": "near-ed25519-v1-box", "near1-implicit": "near-ed25519-v1-box",
                              "near2": "near-ed25519-v2"}.get(dialect, "dv-ed25519")
            if dialect == "dv2":
                self.nonce, self.ts = "n" + uuid.uuid4().hex, int(time.time())
        if model_key is not None:
            self.model_key = model_key

    @property
    def family(self) -> str:
        return "dv" if self.dialect.startswith("dv") else "near" if self.dialect.startswith("near") else "aci"

    def headers(self) -> dict:
        headers = {"X-Client-Pub-Key": self.client_key, "X-Model-Pub-Key": self.model_key}
        if self.dialect != "aci":
            headers["X-Signing-Algo"] = self.algo
        if self.dialect == "dv1":
            headers["X-E2EE-Version"] = "1"
        elif self.dialect in ("dv2", "aci"):
            headers["X-E2EE-Version"] = "2"
        elif self.dialect in ("near1", "near2"):
            headers["X-Encryption-Version"] = self.dialect[-1]
        if self.nonce is not None:
            headers["X-E2EE-Nonce"] = self.nonce
            headers["X-E2EE-Timestamp"] = str(self.ts)
        if self.all_fields:
            headers["X-Encrypt-All-Fields"] = "true"
        return headers

    def seal(self, text: str, aad: bytes = b"") -> str:
        seal, _, info, curve, nonce_length = ref.SUITES[self.suite]
        return seal(text.encode(), self.recipient, info, aad, secrets.token_bytes(32), os.urandom(nonce_length)).hex()

    def open(self, field: str, aad: bytes = b"") -> str:
        _, open_, info, _, _ = ref.SUITES[self.suite]
        return open_(bytes.fromhex(field), self.secret, info, aad).decode()

    # AAD (empty for DV v1 and NEAR)

    def request_aad(self, model: str, path: str, m: int | None = None, c: int | None = None) -> bytes:
        if self.dialect == "dv2":
            return ref.dv_request_aad(self.algo, model, m, c, self.nonce, self.ts)
        if self.dialect == "aci":
            return ref.aci_request_aad(self.aci_algo, model, path, self.nonce, self.ts)
        return b""

    def response_aad(self, event: dict, request_model: str, path: str, choice: int, field: str) -> bytes:
        if self.dialect == "dv2":
            return ref.dv_response_aad(self.algo, event.get("model", ""), event.get("id", ""), choice, field,
                                       self.nonce, self.ts)
        if self.dialect == "aci":
            return ref.aci_response_aad(self.aci_algo, request_model, event.get("id", ""), path, self.nonce, self.ts)
        return b""


def marker(prompt: str) -> str:
    """The unique, ASCII head of a secret prompt: found in any JSON or log spelling of it."""
    return prompt.split(" ")[0]


def secret_prompt(label: str) -> str:
    text = f"E2EE-SECRET-{uuid.uuid4().hex[:12]} {label}: caf\u00e9 \u4e16\u754c \U0001f600 \"quoted\"\nline two"
    SECRETS_SENT.append(text)
    return text


def chat_request(client: Client, prompt: str, stream: bool, parts: bool = False, aad_model: str | None = None,
                 system: str | None = None) -> dict:
    """A chat body with every message's content sealed (DV: strings, or text parts with their index; ACI: the
    field path; NEAR: the content)."""
    aad_model = MODEL if aad_model is None else aad_model
    messages = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    for m, message in enumerate(messages):
        if parts and message["role"] == "user":
            half = len(prompt) // 2
            message["content"] = [
                {"type": "text", "text": client.seal(piece, client.request_aad(
                    aad_model, f"messages.{m}.content.{c}.text", m, c))}
                for c, piece in enumerate((prompt[:half], prompt[half:]))
            ]
        else:
            message["content"] = client.seal(message["content"], client.request_aad(
                aad_model, f"messages.{m}.content", m, None))
    body = {"model": MODEL, "messages": messages, "max_tokens": 16}
    if stream:
        body["stream"] = True
    return body


def completion_request(client: Client, prompt: str, stream: bool) -> dict:
    body = {"model": MODEL, "prompt": client.seal(prompt, client.request_aad(MODEL, "prompt")), "max_tokens": 16}
    if stream:
        body["stream"] = True
    return body


def embedding_request(client: Client, texts: list[str]) -> dict:
    return {"model": MODEL,
            "input": [client.seal(text, client.request_aad(MODEL, f"input.{i}")) for i, text in enumerate(texts)]}


def post(stack: Stack, path: str, client: Client | None, body, extra: dict | None = None, headers=None):
    """POSTs `body` (a dict, serialised here once, or exact bytes) and returns the answer with `.sent` = the bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if headers is None:
        headers = {**AUTH, "Content-Type": "application/json", **(client.headers() if client else {}), **(extra or {})}
    answer = httpx.post(stack.base + path, content=data, headers=headers, timeout=30)
    answer.sent = data
    return answer


def events_of(body: bytes) -> list[dict]:
    out = []
    for line in body.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def open_choices(client: Client, answer: httpx.Response, streamed: bool, text_field: bool = False) -> dict:
    """Every content-bearing field of the answer opened, joined per (choice, field); a field in the clear fails."""
    events = events_of(answer.content) if streamed else [answer.json()]
    opened: dict = {}
    for event in events:
        for position, choice in enumerate(event.get("choices", [])):
            index = choice.get("index", position)
            if text_field:
                holder, prefix, fields = choice, f"choices.{index}", ("text",)
            else:
                kind = "delta" if streamed else "message"
                holder, prefix = choice.get(kind) or {}, f"choices.{index}.{kind}"
                fields = ("content", "reasoning_content", "reasoning")
            for field in fields:
                value = holder.get(field)
                if isinstance(value, str) and value:
                    aad = client.response_aad(event, MODEL, f"{prefix}.{field}", index, field)
                    opened.setdefault((index, field), []).append(client.open(value, aad))
    return {key: "".join(parts) for key, parts in opened.items()}


def last_upstream_body(stack: Stack, path: str) -> dict:
    requests = [r for r in stack.completion_requests() if r["path"] == path]
    assert requests, "nothing reached the upstream"
    return json.loads(requests[-1]["body"])


def check_e2ee_headers(client: Client, answer: httpx.Response):
    if client.family in ("dv", "aci"):
        assert answer.headers.get("x-e2ee-applied") == "true", dict(answer.headers)
        assert answer.headers.get("x-e2ee-version") == ("2" if client.dialect in ("dv2", "aci") else "1")
    else:
        # NEAR's answers carry no E2EE header at all.
        assert "x-e2ee-applied" not in answer.headers, dict(answer.headers)
    if client.dialect == "aci":
        assert answer.headers.get("x-e2ee-algo") == client.aci_algo


# MARK: - Every dialect and suite, on every route it covers

DIALECTS = [
    ("dv1", "ecdsa"), ("dv1", "ed25519"), ("dv2", "ecdsa"), ("dv2", "ed25519"),
    ("near1", "ecdsa"), ("near1", "ed25519"), ("near1-implicit", "ed25519"), ("near2", "ecdsa"), ("near2", "ed25519"),
    ("aci", "x25519"), ("aci", "secp256k1"),
]
IDS = [f"{d}-{a}" for d, a in DIALECTS]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("dialect,algo", DIALECTS, ids=IDS)
def test_chat(wired, dialect, algo, stream):
    """The echoing mock answers with the last user message as content and the system message as reasoning: what it
    received, in plaintext. Reasoning under vLLM 0.32's name `reasoning`, or the older `reasoning_content` (DV
    seals only that one: test_dv_reasoning_field_of_vllm_0_32)."""
    client = Client(dialect, algo, wired.keys)
    prompt, system = secret_prompt(f"chat {dialect} {algo}"), secret_prompt("system")
    body = chat_request(client, prompt, stream, system=system)
    field = "reasoning" if stream and not dialect.startswith("dv") else "reasoning_content"
    if field == "reasoning_content":
        body["mock_reasoning_field"] = field
    answer = post(wired, "/v1/chat/completions", client, body)
    assert answer.status_code == 200, answer.text
    assert marker(prompt) not in answer.text and marker(system) not in answer.text
    check_e2ee_headers(client, answer)
    opened = open_choices(client, answer, stream)
    assert (opened[(0, "content")], opened[(0, field)]) == (prompt, system)
    upstream = last_upstream_body(wired, "/v1/chat/completions")
    assert [m["content"] for m in upstream["messages"]] == [system, prompt]
    assert not any(h.lower().startswith("x-e2ee") or h.lower() == "x-client-pub-key" for h in upstream)
    check_signatures(wired.base, answer.sent, answer.content, stream, signed_id=answer_id(answer.content, stream))


@pytest.mark.parametrize("dialect,algo", [("dv2", "ecdsa"), ("dv2", "ed25519"), ("aci", "x25519"), ("aci", "secp256k1")])
def test_chat_text_parts(wired, dialect, algo):
    """List content: DV seals the `text` items (AAD with their index), ACI `messages.{m}.content.{c}.text`."""
    client = Client(dialect, algo, wired.keys)
    prompt = secret_prompt(f"parts {dialect}")
    answer = post(wired, "/v1/chat/completions", client, chat_request(client, prompt, True, parts=True))
    assert answer.status_code == 200, answer.text
    assert open_choices(client, answer, True)[(0, "content")] == prompt
    parts = last_upstream_body(wired, "/v1/chat/completions")["messages"][-1]["content"]
    assert "".join(part["text"] for part in parts) == prompt
    check_signatures(wired.base, answer.sent, answer.content, True)


COMPLETIONS = [(d, a) for d, a in DIALECTS if not d.startswith("dv") and d != "near1-implicit"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("dialect,algo", COMPLETIONS, ids=[f"{d}-{a}" for d, a in COMPLETIONS])
def test_completions(wired, dialect, algo, stream):
    client = Client(dialect, algo, wired.keys)
    prompt = secret_prompt(f"completion {dialect} {algo}")
    answer = post(wired, "/v1/completions", client, completion_request(client, prompt, stream))
    assert answer.status_code == 200, answer.text
    check_e2ee_headers(client, answer)
    assert open_choices(client, answer, stream, text_field=True)[(0, "text")] == prompt
    assert last_upstream_body(wired, "/v1/completions")["prompt"] == prompt
    check_signatures(wired.base, answer.sent, answer.content, stream, signed_id=answer_id(answer.content, stream))


@pytest.mark.parametrize("dialect,algo", COMPLETIONS, ids=[f"{d}-{a}" for d, a in COMPLETIONS])
def test_embeddings(wired, dialect, algo):
    """`input` sealed per element; each `data[].embedding` comes back sealed as compact JSON text and equals the
    vector the mock gives the same plaintext (so it embedded the plaintext)."""
    client = Client(dialect, algo, wired.keys)
    texts = [secret_prompt(f"embed {dialect} {i}") for i in range(2)]
    body = embedding_request(client, texts) if dialect == "aci" else {
        "model": MODEL, "input": [client.seal(text) for text in texts]}
    answer = post(wired, "/v1/embeddings", client, body)
    assert answer.status_code == 200, answer.text
    check_e2ee_headers(client, answer)
    document = answer.json()
    vectors = []
    for position, item in enumerate(document["data"]):
        index = item.get("index", position)
        sealed = item["embedding"]
        assert isinstance(sealed, str), "an embedding left in the clear"
        aad = client.response_aad(document, MODEL, f"data.{index}.embedding", index, "embedding")
        vectors.append(json.loads(client.open(sealed, aad)))
    assert last_upstream_body(wired, "/v1/embeddings")["input"] == texts
    plain = httpx.post(wired.base + "/v1/embeddings", json={"model": MODEL, "input": texts}, headers=AUTH, timeout=30)
    assert plain.status_code == 200, plain.text
    assert vectors == [item["embedding"] for item in plain.json()["data"]]
    check_signatures(wired.base, answer.sent, answer.content, False, signed_id=document["id"])


NEAR_ONLY = [(d, a) for d, a in COMPLETIONS if d.startswith("near")]


@pytest.mark.parametrize("dialect,algo", NEAR_ONLY, ids=[f"{d}-{a}" for d, a in NEAR_ONLY])
def test_near_rerank_and_score(wired, dialect, algo):
    """NEAR also covers rerank (`query`, `documents`; answers' `results[].document.text` sealed) and score
    (`text_1`, `text_2`): vLLM scores the plaintext, as the same request in the clear shows."""
    client = Client(dialect, algo, wired.keys)
    query, documents = secret_prompt("rerank query"), [secret_prompt("doc a"), secret_prompt("doc b")]
    sealed = {"model": MODEL, "query": client.seal(query), "documents": [client.seal(d) for d in documents]}
    answer = post(wired, "/v1/rerank", client, sealed)
    assert answer.status_code == 200, answer.text
    upstream = last_upstream_body(wired, "/v1/rerank")
    assert (upstream["query"], upstream["documents"]) == (query, documents)
    plain = httpx.post(wired.base + "/v1/rerank", json={"model": MODEL, "query": query, "documents": documents},
                       headers=AUTH, timeout=30).json()
    scores = lambda doc: sorted((r["index"], r["relevance_score"]) for r in doc["results"])  # noqa: E731
    assert scores(answer.json()) == scores(plain)
    for result in answer.json()["results"]:
        text = result["document"]["text"]  # vLLM returns the documents: sealed, never in the clear
        assert client.open(text) == documents[result["index"]]
    check_signatures(wired.base, answer.sent, answer.content, False, signed_id=answer.json()["id"])

    texts = [secret_prompt("score one"), secret_prompt("score two")]
    answer = post(wired, "/v1/score", client, {"model": MODEL, "text_1": client.seal(texts[0]),
                                               "text_2": client.seal(texts[1])})
    assert answer.status_code == 200, answer.text
    upstream = last_upstream_body(wired, "/v1/score")
    assert (upstream["text_1"], upstream["text_2"]) == tuple(texts)
    plain = httpx.post(wired.base + "/v1/score", json={"model": MODEL, "text_1": texts[0], "text_2": texts[1]},
                       headers=AUTH, timeout=30).json()
    assert [d["score"] for d in answer.json()["data"]] == [d["score"] for d in plain["data"]]
    check_signatures(wired.base, answer.sent, answer.content, False, signed_id=answer.json()["id"])


@pytest.mark.parametrize("algo", ["ecdsa", "ed25519"])
def test_near_all_fields(wired, algo):
    """X-Encrypt-All-Fields: a tool's description and a message's name are sealed too, and reach vLLM opened."""
    client = Client("near2", algo, wired.keys, all_fields=True)
    prompt = secret_prompt(f"all fields {algo}")
    body = chat_request(client, prompt, stream=False)
    body["messages"][-1]["name"] = client.seal("alice")
    body["tools"] = [{"type": "function", "function": {
        "name": client.seal("lookup"), "description": client.seal("Looks a secret up."),
        "parameters": client.seal(json.dumps({"type": "object", "properties": {}}))}}]
    answer = post(wired, "/v1/chat/completions", client, body)
    assert answer.status_code == 200, answer.text
    assert open_choices(client, answer, False)[(0, "content")] == prompt
    upstream = last_upstream_body(wired, "/v1/chat/completions")
    assert upstream["messages"][-1]["name"] == "alice"
    function = upstream["tools"][0]["function"]
    assert (function["name"], function["description"]) == ("lookup", "Looks a secret up.")
    check_signatures(wired.base, answer.sent, answer.content, False)


def test_dv_v1_without_version_header_as_dvs_clients_send(wired):
    """DV's own v1 clients send X-Signing-Algo and the keys only; for ed25519 the field tells DV from NEAR."""
    for algo in ("ecdsa", "ed25519"):
        client = Client("dv1", algo, wired.keys)
        prompt = secret_prompt(f"dv1 implicit {algo}")
        body = chat_request(client, prompt, stream=True)
        headers = {k: v for k, v in client.headers().items() if k != "X-E2EE-Version"}
        answer = post(wired, "/v1/chat/completions", None, body, headers={**AUTH, **headers})
        assert answer.status_code == 200, answer.text
        assert open_choices(client, answer, True)[(0, "content")] == prompt


def test_plaintext_request_is_unchanged(wired):
    prompt = f"plaintext-{uuid.uuid4().hex}"
    for stream in (False, True):
        body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream}
        answer = post(wired, "/v1/chat/completions", None, body, headers={**AUTH, "Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        # The Python proxy's answer to a chat completion in the clear.
        assert answer.headers.get("x-e2ee-applied") == "false", dict(answer.headers)
        if stream:
            text = "".join(e["choices"][0]["delta"].get("content", "") for e in events_of(answer.content) if e["choices"])
        else:
            text = answer.json()["choices"][0]["message"]["content"]
        assert text == prompt
        assert last_upstream_body(wired, "/v1/chat/completions") == body
        check_signatures(wired.base, answer.sent, answer.content, stream)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("dialect", ["dv1", "dv2"])
def test_dv_reasoning_field_of_vllm_0_32(wired, dialect, stream):
    client = Client(dialect, "ecdsa", wired.keys)
    prompt, system = secret_prompt("dv reasoning"), secret_prompt("dv reasoning system")
    answer = post(wired, "/v1/chat/completions", client, chat_request(client, prompt, stream, system=system))
    assert answer.status_code == 200, answer.text
    assert marker(system) not in answer.text, "the reasoning left the proxy in the clear"
    assert open_choices(client, answer, stream)[(0, "reasoning")] == system


# MARK: - Bad inputs: the dialect's 400, nothing forwarded


def refused(stack: Stack, answer: httpx.Response, before: int, error_type: str):
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.json()["error"]["type"] == error_type, answer.text
    time.sleep(0.1)
    assert len(stack.completion_requests()) == before, "a refused request reached the upstream"


def tamper(field: str) -> str:
    blob = bytearray.fromhex(field)
    blob[-5] ^= 0x01
    return blob.hex()


@pytest.mark.parametrize("dialect,algo", DIALECTS, ids=IDS)
def test_tampered_ciphertext(wired, dialect, algo):
    client = Client(dialect, algo, wired.keys)
    body = chat_request(client, secret_prompt("tampered"), stream=False)
    body["messages"][0]["content"] = tamper(body["messages"][0]["content"])
    before = len(wired.completion_requests())
    expected = "bad_request" if dialect.startswith("near") else "e2ee_decryption_failed"
    if dialect == "near1-implicit" or (dialect == "dv1" and algo == "ed25519"):
        # v1 ed25519 without a version header is told apart by trial: no cipher opens it.
        expected = None
    answer = post(wired, "/v1/chat/completions", client, body)
    if expected is None:
        assert answer.status_code == 400 and answer.json()["error"]["type"] in ("bad_request", "e2ee_decryption_failed")
        assert len(wired.completion_requests()) == before
    else:
        refused(wired, answer, before, expected)


@pytest.mark.parametrize("dialect,algo", [("dv2", "ecdsa"), ("dv2", "ed25519"), ("aci", "x25519"), ("aci", "secp256k1")])
def test_wrong_aad_model_swapped(wired, dialect, algo):
    """Sealed for another model than the body names: the tag fails."""
    client = Client(dialect, algo, wired.keys)
    body = chat_request(client, secret_prompt("aad"), stream=False, aad_model="other-model")
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, "e2ee_decryption_failed")


@pytest.mark.parametrize("dialect,algo", [("dv2", "ecdsa"), ("dv2", "ed25519"), ("aci", "x25519"), ("aci", "secp256k1")])
def test_replayed_nonce(wired, dialect, algo):
    client = Client(dialect, algo, wired.keys)
    body = json.dumps(chat_request(client, secret_prompt("replay"), stream=False)).encode()
    first = post(wired, "/v1/chat/completions", client, body)
    assert first.status_code == 200, first.text
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, "e2ee_replay_detected")
    # The same nonce on a freshly sealed body is a replay too.
    fresh = chat_request(client, secret_prompt("replay again"), stream=False)
    refused(wired, post(wired, "/v1/chat/completions", client, fresh), before, "e2ee_replay_detected")


@pytest.mark.parametrize("dialect,algo", [("dv2", "ecdsa"), ("dv2", "ed25519"), ("aci", "x25519"), ("aci", "secp256k1")])
@pytest.mark.parametrize("skew", [-1000, 1000], ids=["stale", "future"])
def test_timestamp_outside_window(wired, dialect, algo, skew):
    client = Client(dialect, algo, wired.keys)
    client.ts += skew
    body = chat_request(client, secret_prompt("stale"), stream=False)
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, "e2ee_invalid_timestamp")


def other_key(algo: str) -> str:
    if algo in ("ecdsa", "secp256k1"):
        full = ref.secp_public_uncompressed(ref.secp_private(random_secp256k1()))
        return (full if algo == "secp256k1" else full[1:]).hex()
    if algo == "ed25519":
        return ref.ed25519_public(secrets.token_bytes(32)).hex()
    return ref.x25519_public(secrets.token_bytes(32)).hex()


@pytest.mark.parametrize("dialect,algo", [("dv1", "ecdsa"), ("dv2", "ed25519"), ("aci", "x25519"), ("aci", "secp256k1")])
def test_wrong_model_key_header(wired, dialect, algo):
    """DV and ACI check X-Model-Pub-Key against the attested keys."""
    client = Client(dialect, algo, wired.keys, model_key=other_key(algo))
    body = chat_request(client, secret_prompt("wrong key"), stream=False)
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, "e2ee_model_key_mismatch")


@pytest.mark.parametrize("dialect,algo", [("near1", "ecdsa"), ("near2", "ed25519"), ("dv2", "ecdsa")])
def test_sealed_to_a_wrong_model_key(wired, dialect, algo):
    """Sealed to a key that is not the model's (NEAR ignores X-Model-Pub-Key): nothing opens it."""
    client = Client(dialect, algo, wired.keys)
    stranger = other_key(algo)
    client.recipient = (b"\x04" + bytes.fromhex(stranger)) if algo == "ecdsa" else ref.ed25519_pub_to_x25519(
        bytes.fromhex(stranger))
    body = chat_request(client, secret_prompt("stranger"), stream=False)
    before = len(wired.completion_requests())
    expected = "bad_request" if dialect.startswith("near") else "e2ee_decryption_failed"
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, expected)


MALFORMED = {
    # name: (dialect, algo, header changes (None removes), expected type)
    "dv-version-and-near-version": ("dv2", "ecdsa", {"X-Encryption-Version": "2"}, "invalid_e2ee_request"),
    "aci-with-near-version": ("aci", "x25519", {"X-Encryption-Version": "2"}, "invalid_e2ee_request"),
    "dv-nonce-without-timestamp": ("dv2", "ecdsa", {"X-E2EE-Timestamp": None, "X-E2EE-Version": None},
                                   "e2ee_header_missing"),
    "aci-without-nonce": ("aci", "x25519", {"X-E2EE-Nonce": None}, "e2ee_header_missing"),
    "dv-short-nonce": ("dv2", "ed25519", {"X-E2EE-Nonce": "short"}, "e2ee_invalid_nonce"),
    "aci-nonce-not-64-hex": ("aci", "secp256k1", {"X-E2EE-Nonce": "ab" * 31}, "e2ee_invalid_nonce"),
    "dv-unknown-version": ("dv2", "ecdsa", {"X-E2EE-Version": "3"}, "e2ee_invalid_version"),
    "aci-unknown-version": ("aci", "x25519", {"X-E2EE-Version": "3"}, "e2ee_invalid_version"),
    "dv-unknown-algo": ("dv2", "ecdsa", {"X-Signing-Algo": "rsa"}, "e2ee_invalid_signing_algo"),
    "dv-client-key-off-curve": ("dv1", "ecdsa", {"X-Client-Pub-Key": "01" * 64}, "e2ee_invalid_public_key"),
    "aci-client-key-small-order": ("aci", "x25519", {"X-Client-Pub-Key": "00" * 32}, "e2ee_invalid_public_key"),
    # Without X-Signing-Algo the client keys are ACI's, which NEAR's version header contradicts.
    "near-keys-without-signing-algo": ("near2", "ecdsa", {"X-Signing-Algo": None}, "invalid_e2ee_request"),
    "near-version-alone": ("near2", "ecdsa", {"X-Signing-Algo": None, "X-Client-Pub-Key": None,
                                              "X-Model-Pub-Key": None}, "bad_request"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_headers(wired, name):
    dialect, algo, changes, expected = MALFORMED[name]
    client = Client(dialect, algo, wired.keys)
    body = chat_request(client, secret_prompt(name), stream=False)
    headers = {**AUTH, "Content-Type": "application/json", **client.headers()}
    for key, value in changes.items():
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", None, body, headers=headers), before, expected)


def test_repeated_e2ee_header(wired):
    client = Client("dv2", "ecdsa", wired.keys)
    body = json.dumps(chat_request(client, secret_prompt("repeated"), stream=False)).encode()
    headers = [("Authorization", AUTH["Authorization"]), ("Content-Type", "application/json"),
               *client.headers().items(), ("X-Client-Pub-Key", other_key("ecdsa"))]
    before = len(wired.completion_requests())
    answer = httpx.post(wired.base + "/v1/chat/completions", content=body, headers=headers, timeout=30)
    refused(wired, answer, before, "invalid_e2ee_request")


def test_endpoints_a_dialect_does_not_cover(wired):
    """DV covers chat only (its catch-all type); ACI refuses a route it does not define."""
    before = len(wired.completion_requests())
    dv = Client("dv2", "ecdsa", wired.keys)
    refused(wired, post(wired, "/v1/completions", dv, {"model": MODEL, "prompt": dv.seal("x")}), before,
            "invalid_e2ee_request")
    aci = Client("aci", "x25519", wired.keys)
    body = {"model": MODEL, "query": aci.seal("q"), "documents": ["a", "b"]}
    refused(wired, post(wired, "/v1/rerank", aci, body), before, "e2ee_unsupported_endpoint")


def test_field_in_the_clear_under_aci(wired):
    """ACI: a request must carry at least one encrypted field; plaintext content under E2EE headers is refused."""
    client = Client("aci", "x25519", wired.keys)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "not sealed"}]}
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/chat/completions", client, body), before, "e2ee_decryption_failed")



def invalid_request_type(dialect: str) -> str:
    # near1-implicit sends X-Model-Pub-Key too: the shared v1, which answers with DV's types.
    return "bad_request" if dialect.startswith("near") and dialect != "near1-implicit" else "invalid_e2ee_request"


@pytest.mark.parametrize("dialect,algo", DIALECTS, ids=IDS)
def test_gateway_added_parameters_are_refused(wired, dialect, algo):
    """A party in the middle adds parameters that would make vLLM answer with fields no sealer covers (the clear
    parameters are in no AAD): refused before anything reaches vLLM, naming the parameter; the untouched body
    still goes through afterwards (its nonce was not spent)."""
    client = Client(dialect, algo, wired.keys)
    body = chat_request(client, secret_prompt("gateway"), stream=False)
    for added in ({"logprobs": True, "top_logprobs": 20}, {"prompt_logprobs": 1}, {"return_token_ids": True},
                  {"return_tokens_as_token_ids": True},
                  {"tools": [{"type": "function", "function": {"name": "leak", "parameters": {"type": "object"}}}]},
                  {"tool_choice": "required"}):
        before = len(wired.completion_requests())
        answer = post(wired, "/v1/chat/completions", client, {**body, **added})
        refused(wired, answer, before, invalid_request_type(dialect))
        assert f"'{next(iter(added))}'" in answer.json()["error"]["message"]
    answer = post(wired, "/v1/chat/completions", client, body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("dialect,algo", COMPLETIONS, ids=[f"{d}-{a}" for d, a in COMPLETIONS])
def test_gateway_added_completion_logprobs_are_refused(wired, dialect, algo):
    client = Client(dialect, algo, wired.keys)
    body = completion_request(client, secret_prompt("completion logprobs"), stream=False)
    before = len(wired.completion_requests())
    refused(wired, post(wired, "/v1/completions", client, {**body, "logprobs": 5}), before,
            invalid_request_type(dialect))
    # echo returns the prompt in the sealed `text`: allowed.
    assert post(wired, "/v1/completions", client, {**body, "echo": True}).status_code == 200


def test_too_many_encrypted_fields(wired):
    """At most 2 048 encrypted fields per request (OpenAI's cap on embeddings inputs), refused before any opens."""
    client = Client("near1", "ecdsa", wired.keys)
    field = client.seal("x", client.request_aad(MODEL, "input.0"))
    before = len(wired.completion_requests())
    answer = post(wired, "/v1/embeddings", client, {"model": MODEL, "input": [field] * 2049})
    refused(wired, answer, before, "bad_request")
    assert "at most 2048" in answer.json()["error"]["message"]


# MARK: - signing-proxy verify chat --e2ee


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("dialect", ["dv", "near", "aci"])
@pytest.mark.parametrize("algo", ["ecdsa", "ed25519"])
def test_verify_chat_e2ee(wired, dialect, algo, stream):
    prompt = secret_prompt(f"verify {dialect} {algo}")
    args = [bin_path("signing-proxy"), "verify", "chat", "--url", wired.base, "--token", TOKEN, "--json",
            "--e2ee", algo, "--dialect", dialect, "--prompt", prompt, *(["--stream"] if stream else [])]
    before = len(wired.completion_requests())
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout)
    checks = {check["id"]: check for check in report["checks"]}
    failed = sorted(i for i, c in checks.items() if c["status"] == "fail")
    assert failed == ["dcap.quote-signature", "ed25519/dcap.quote-signature"], (failed, result.stdout[-3000:])
    key_check = ("" if algo == "ecdsa" else "ed25519/") + "e2ee.model-key"
    for required in ("e2ee.request", "e2ee.answer", key_check, "signature.request-hash", "signature.response-hash",
                     "signature.ecdsa", "ed25519/signature.ed25519", "quote.report-data"):
        assert checks[required]["status"] == "pass", (required, checks.get(required))
    # The echoing mock answered with the prompt it received in plaintext; the CLI opened and printed it.
    assert checks["e2ee.answer"]["detail"].endswith(json.dumps(prompt, ensure_ascii=False)[:-1].replace("\\n", "\n") + '"') \
        or prompt in checks["e2ee.answer"]["detail"]
    upstream = [r for r in wired.completion_requests()[before:] if r["path"] == "/v1/chat/completions"]
    assert len(upstream) == 1 and json.loads(upstream[0]["body"])["messages"][0]["content"] == prompt
    assert TOKEN not in result.stderr


# MARK: - Nothing plaintext in the proxy's log (runs last in this module)


def test_zz_no_plaintext_prompt_in_the_proxy_log(wired):
    assert SECRETS_SENT, "no encrypted prompt was sent"
    wired.proxy.log.flush()
    text = Path(wired.proxy.log.name).read_text(errors="replace")
    assert text, "the proxy logged nothing at trace level"
    for prompt in SECRETS_SENT:
        head = marker(prompt)
        assert head not in text, f"{head} appears in the proxy's log"
        assert head.encode().hex() not in text
