"""An independent client and server for the E2EE dialects, with `cryptography` and PyNaCl (test-only).

Each rule is written from the dialects' own documents and reference clients (docs/E2EE.md of this repository
summarises them), not from the Swift code. `python interop/e2ee_reference.py --write` regenerates
`Fixtures/e2ee/vectors.json`: deterministic keys, ephemeral keys and nonces, so the file is exactly this
module's output, and `interop/test_e2ee_reference.py` checks that it still is. The Swift suite E2EETests
opens every request vector through its dialect parser and reproduces every ciphertext byte for byte from the
same ephemeral key and nonce, which proves both directions: what Python seals Swift opens, and what Swift
seals is what Python seals (and opens).
"""

import hashlib
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings as sodium
from nacl.public import Box, PrivateKey, PublicKey

VECTORS = Path(__file__).resolve().parent.parent / "Fixtures" / "e2ee" / "vectors.json"
P = 2**255 - 19


def det(label: str, n: int = 32) -> bytes:
    """Deterministic test bytes (never keys outside tests)."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"e2ee-vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


# ---- keys -----------------------------------------------------------------------------------------------------


def secp_private(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256K1())


def secp_public_uncompressed(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def ed25519_public(seed: bytes) -> bytes:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ed25519_seed_to_x25519(seed: bytes) -> bytes:
    """clamp(SHA-512(seed)[:32]), as the DV and NEAR servers derive their X25519 secret."""
    s = bytearray(hashlib.sha512(seed).digest()[:32])
    s[0] &= 248
    s[31] &= 127
    s[31] |= 64
    return bytes(s)


def ed25519_pub_to_x25519(pub: bytes) -> bytes:
    """Birational map u = (1 + y) / (1 - y) mod p (RFC 7748), as DV's client scripts compute it."""
    y = int.from_bytes(pub, "little") & ((1 << 255) - 1)
    u = 0 if y == 1 else ((1 + y) * pow((1 - y) % P, P - 2, P)) % P
    return u.to_bytes(32, "little")


def x25519_public(secret: bytes) -> bytes:
    return (
        x25519.X25519PrivateKey.from_private_bytes(secret)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def hkdf(shared: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


# ---- suites: seal(plaintext, recipient public, aad, ephemeral secret, nonce) / open(blob, recipient secret, aad) ---


def ecies_seal(pt: bytes, recipient_pub65: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = secp_private(eph)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), recipient_pub65)
    key = hkdf(eph_key.exchange(ec.ECDH(), peer), info)
    return secp_public_uncompressed(eph_key) + nonce + AESGCM(key).encrypt(nonce, pt, aad or None)


def ecies_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), blob[:65])
    key = hkdf(secp_private(secret).exchange(ec.ECDH(), peer), info)
    return AESGCM(key).decrypt(blob[65:77], blob[77:], aad or None)


def x25519_gcm_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = x25519.X25519PrivateKey.from_private_bytes(eph)
    key = hkdf(eph_key.exchange(x25519.X25519PublicKey.from_public_bytes(recipient_u)), info)
    return x25519_public(eph) + nonce + AESGCM(key).encrypt(nonce, pt, aad or None)


def x25519_gcm_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    shared = x25519.X25519PrivateKey.from_private_bytes(secret).exchange(
        x25519.X25519PublicKey.from_public_bytes(blob[:32])
    )
    return AESGCM(hkdf(shared, info)).decrypt(blob[32:44], blob[44:], aad or None)


def x25519_xchacha_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    eph_key = x25519.X25519PrivateKey.from_private_bytes(eph)
    key = hkdf(eph_key.exchange(x25519.X25519PublicKey.from_public_bytes(recipient_u)), info)
    return x25519_public(eph) + nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, aad or None, nonce, key)


def x25519_xchacha_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    shared = x25519.X25519PrivateKey.from_private_bytes(secret).exchange(
        x25519.X25519PublicKey.from_public_bytes(blob[:32])
    )
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(blob[56:], aad or None, blob[32:56], hkdf(shared, info))


def box_seal(pt: bytes, recipient_u: bytes, info: bytes, aad: bytes, eph: bytes, nonce: bytes) -> bytes:
    assert not aad
    sealed = Box(PrivateKey(eph), PublicKey(recipient_u)).encrypt(pt, nonce)  # nonce || MAC || ciphertext
    return x25519_public(eph) + bytes(sealed)


def box_open(blob: bytes, secret: bytes, info: bytes, aad: bytes) -> bytes:
    assert not aad
    return Box(PrivateKey(secret), PublicKey(blob[:32])).decrypt(blob[56:], blob[32:56])


SUITES = {
    # name: (seal, open, info, curve, nonce length)
    "legacy-ecdsa": (ecies_seal, ecies_open, b"ecdsa_encryption", "secp256k1", 12),
    "dv-ed25519": (x25519_gcm_seal, x25519_gcm_open, b"ed25519_encryption", "x25519", 12),
    "near-ed25519-v1-box": (box_seal, box_open, b"", "x25519", 24),
    "near-ed25519-v2": (x25519_xchacha_seal, x25519_xchacha_open, b"ed25519_encryption", "x25519", 24),
    "aci-x25519": (x25519_gcm_seal, x25519_gcm_open, b"aci.e2ee.v2.x25519", "x25519", 12),
    "aci-secp256k1": (ecies_seal, ecies_open, b"aci.e2ee.v2.secp256k1", "secp256k1", 12),
}

# ---- AAD ------------------------------------------------------------------------------------------------------


def dv_request_aad(algo, model, m, c, nonce, ts) -> bytes:
    return f"v2|req|algo={algo}|model={model}|m={m}|c={'-' if c is None else c}|n={nonce}|ts={ts}".encode()


def dv_response_aad(algo, model, rid, choice, field, nonce, ts) -> bytes:
    return f"v2|resp|algo={algo}|model={model}|id={rid}|choice={choice}|field={field}|n={nonce}|ts={ts}".encode()


def jcs(obj: dict) -> bytes:
    """RFC 8785 for flat objects of ASCII names, strings and integers: json's escaping matches ECMAScript's."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def aci_request_aad(algo, model, field, nonce, ts) -> bytes:
    return jcs({"purpose": "aci.e2ee.request.v2", "algo": algo, "model": model, "field": field, "nonce": nonce, "ts": ts})


def aci_response_aad(algo, model, rid, field, nonce, ts) -> bytes:
    return jcs(
        {"purpose": "aci.e2ee.response.v2", "algo": algo, "model": model, "id": rid, "field": field,
         "nonce": nonce, "ts": ts}
    )


# ---- the fixed world ------------------------------------------------------------------------------------------

SERVER_ECDSA = det("server-ecdsa")
SERVER_ED25519_SEED = det("server-ed25519-seed")
CLIENT_ECDSA = det("client-ecdsa")
CLIENT_ED25519_SEED = det("client-ed25519-seed")
ACI_X25519 = bytes([0x03]) * 32  # the key of ACI's published vectors
CLIENT_X25519 = det("client-x25519")
MODEL = 'tiny "model"\u00e9\n'  # exercises escaping in the JCS AAD and raw bytes in DV's pipe AAD
DV_NONCE = "n1750000000abcd1234abcd"
TS = 1750000000
ACI_NONCE = "000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f"  # mixed case on purpose
ACI_SECP_ALGO = "secp256k1-aes-256-gcm-hkdf-sha256"
ACI_X_ALGO = "x25519-aes-256-gcm-hkdf-sha256"


def world() -> dict:
    server_secp_pub = secp_public_uncompressed(secp_private(SERVER_ECDSA))
    client_secp_pub = secp_public_uncompressed(secp_private(CLIENT_ECDSA))
    server_ed_pub = ed25519_public(SERVER_ED25519_SEED)
    client_ed_pub = ed25519_public(CLIENT_ED25519_SEED)
    return {
        "server_ecdsa_secret": SERVER_ECDSA.hex(),
        "server_ecdsa_public": server_secp_pub.hex(),
        "server_ed25519_seed": SERVER_ED25519_SEED.hex(),
        "server_ed25519_public": server_ed_pub.hex(),
        "server_x25519_secret": ed25519_seed_to_x25519(SERVER_ED25519_SEED).hex(),
        "server_x25519_public": ed25519_pub_to_x25519(server_ed_pub).hex(),
        "client_ecdsa_secret": CLIENT_ECDSA.hex(),
        "client_ecdsa_public": client_secp_pub.hex(),
        "client_ed25519_seed": CLIENT_ED25519_SEED.hex(),
        "client_ed25519_public": client_ed_pub.hex(),
        "client_x25519_secret": ed25519_seed_to_x25519(CLIENT_ED25519_SEED).hex(),
        "client_x25519_public": ed25519_pub_to_x25519(client_ed_pub).hex(),
        "aci_x25519_secret": ACI_X25519.hex(),
        "aci_x25519_public": x25519_public(ACI_X25519).hex(),
        "aci_client_x25519_secret": CLIENT_X25519.hex(),
        "aci_client_x25519_public": x25519_public(CLIENT_X25519).hex(),
        "model": MODEL,
        "dv_nonce": DV_NONCE,
        "aci_nonce": ACI_NONCE,
        "timestamp": TS,
    }


def cases(w: dict) -> list[dict]:
    """(dialect, suite, direction, plaintext, aad, recipient) for every dialect, both directions."""
    srv_secp = bytes.fromhex(w["server_ecdsa_public"])
    cli_secp = bytes.fromhex(w["client_ecdsa_public"])
    srv_u = bytes.fromhex(w["server_x25519_public"])
    cli_u = bytes.fromhex(w["client_x25519_public"])
    aci_u = bytes.fromhex(w["aci_x25519_public"])
    aci_cli_u = bytes.fromhex(w["aci_client_x25519_public"])
    text = "Hello, encrypted world! \u00e9\u4e16\U0001f600"
    out = []

    def add(name, dialect, suite, direction, pt, aad, recipient, **where):
        out.append(dict(name=name, dialect=dialect, suite=suite, direction=direction, plaintext=pt,
                        aad=aad.decode(), recipient=recipient.hex(), where=where))

    for algo, suite, s_pub, c_pub in (("ecdsa", "legacy-ecdsa", srv_secp, cli_secp),
                                      ("ed25519", "dv-ed25519", srv_u, cli_u)):
        add(f"dv-v1-{algo}-request", "dv-v1", suite, "request", text, b"", s_pub, algo=algo, m=0, c=None)
        add(f"dv-v1-{algo}-response", "dv-v1", suite, "response", "v1 answer", b"", c_pub, algo=algo)
        add(f"dv-v2-{algo}-request", "dv-v2", suite, "request", text,
            dv_request_aad(algo, MODEL, 1, None, DV_NONCE, TS), s_pub, algo=algo, m=1, c=None)
        add(f"dv-v2-{algo}-request-part", "dv-v2", suite, "request", "part two",
            dv_request_aad(algo, MODEL, 0, 2, DV_NONCE, TS), s_pub, algo=algo, m=0, c=2)
        add(f"dv-v2-{algo}-response", "dv-v2", suite, "response", "v2 answer",
            dv_response_aad(algo, "served-model", "chatcmpl-1", 0, "reasoning_content", DV_NONCE, TS), c_pub,
            algo=algo, model="served-model", id="chatcmpl-1", choice=0, field="reasoning_content")
    add("near-v1-ecdsa-request", "near-v1", "legacy-ecdsa", "request", text, b"", srv_secp, algo="ecdsa")
    add("near-v2-ecdsa-response", "near-v2", "legacy-ecdsa", "response", "near answer", b"", cli_secp, algo="ecdsa")
    add("near-v1-ed25519-request", "near-v1", "near-ed25519-v1-box", "request", text, b"", srv_u, algo="ed25519")
    add("near-v1-ed25519-response", "near-v1", "near-ed25519-v1-box", "response", "near v1 answer", b"", cli_u,
        algo="ed25519")
    add("near-v2-ed25519-request", "near-v2", "near-ed25519-v2", "request", text, b"", srv_u, algo="ed25519")
    add("near-v2-ed25519-response", "near-v2", "near-ed25519-v2", "response", "[0.25,-1.5]", b"", cli_u,
        algo="ed25519")
    for suite, algo, s_pub, c_pub in (("aci-x25519", ACI_X_ALGO, aci_u, aci_cli_u),
                                      ("aci-secp256k1", ACI_SECP_ALGO, srv_secp, cli_secp)):
        add(f"{suite}-request", "aci-v2", suite, "request", text,
            aci_request_aad(algo, MODEL, "messages.0.content.1.text", ACI_NONCE, TS), s_pub,
            algo=algo, field="messages.0.content.1.text")
        add(f"{suite}-response", "aci-v2", suite, "response", "aci answer",
            aci_response_aad(algo, MODEL, "chatcmpl-123", "choices.0.delta.content", ACI_NONCE, TS), c_pub,
            algo=algo, id="chatcmpl-123", field="choices.0.delta.content")
    return out


def recipient_secret(w: dict, case: dict) -> bytes:
    owner = "server" if case["direction"] == "request" else "client"
    suite = case["suite"]
    if suite.startswith("aci-x25519"):
        return bytes.fromhex(w["aci_x25519_secret"] if owner == "server" else w["aci_client_x25519_secret"])
    if SUITES[suite][3] == "secp256k1":
        return bytes.fromhex(w[f"{owner}_ecdsa_secret"])
    return bytes.fromhex(w[f"{owner}_x25519_secret"])


def generate() -> dict:
    w = world()
    vectors = []
    for case in cases(w):
        seal, open_, info, curve, nonce_len = SUITES[case["suite"]]
        eph = det(f"{case['name']}/ephemeral")
        if curve == "x25519":
            eph = bytearray(eph)  # clamp, so the stored secret is the scalar every library uses unchanged
            eph[0] &= 248
            eph[31] &= 127
            eph[31] |= 64
            eph = bytes(eph)
        nonce = det(f"{case['name']}/nonce", nonce_len)
        aad = case["aad"].encode()
        blob = seal(case["plaintext"].encode(), bytes.fromhex(case["recipient"]), info, aad, eph, nonce)
        assert open_(blob, recipient_secret(w, case), info, aad).decode() == case["plaintext"]
        vectors.append({**case, "ephemeral_secret": eph.hex(), "nonce": nonce.hex(), "field": blob.hex()})
    return {
        "comment": "Generated by interop/e2ee_reference.py --write; test data only, never use these keys elsewhere.",
        "world": w,
        "vectors": vectors,
        "bodies": bodies(w),
    }


# ---- whole bodies: which fields each dialect encrypts (docs/E2EE.md, "Which fields") ---------------------------
#
# Written from the dialects' sources, not from the Swift code: DV's `e2ee.py` (decrypt_request_json,
# encrypt_chat_completion_{response,chunk}), NEAR's `encryption.rs` (decrypt_request_fields, encrypt_response_fields,
# encrypt_streaming_chunk), ACI's `spec/e2ee-v2.md` §5-6. A request vector is the body a client sends (fields
# sealed in place) and the body the server must forward; an answer vector is a plaintext answer and the fields the
# server must seal in it (path, AAD, plaintext), plus the members it must drop. The Swift suite seals the answer
# itself (fresh keys) and opens each expected field with the client's key and the AAD given here.


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def client_suite(dialect: str, algo: str) -> tuple[str, str]:
    """(suite, server public key name in the world) a client of `dialect` seals its request fields with."""
    if dialect.startswith("aci"):
        return ("aci-x25519", "aci_x25519_public") if algo == ACI_X_ALGO else ("aci-secp256k1", "server_ecdsa_public")
    if algo == "ecdsa":
        return "legacy-ecdsa", "server_ecdsa_public"
    return {"dv-v1": "dv-ed25519", "dv-v2": "dv-ed25519", "near-v1": "near-ed25519-v1-box",
            "near-v2": "near-ed25519-v2"}[dialect], "server_x25519_public"


def request_aad(dialect: str, algo: str, model: str, path: list) -> bytes:
    if dialect == "dv-v2":
        m = path[1]
        c = path[3] if len(path) > 3 else None
        return dv_request_aad(algo, model, m, c, DV_NONCE, TS)
    if dialect == "aci-v2":
        return aci_request_aad(algo, model, ".".join(str(step) for step in path), ACI_NONCE, TS)
    return b""


def get_path(obj, path):
    for step in path:
        obj = obj[step]
    return obj


def set_path(obj, path, value):
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


def encrypt_request(w: dict, case: str, dialect: str, algo: str, plain: dict, paths: list) -> str:
    """The client's body: the value at each path sealed (a list or object as its compact JSON text)."""
    suite, server_key = client_suite(dialect, algo)
    seal, open_, info, curve, nonce_len = SUITES[suite]
    body = json.loads(json.dumps(plain))
    model = plain.get("model", "")
    for path in paths:
        value = get_path(plain, path)
        text = value if isinstance(value, str) else compact(value)
        aad = request_aad(dialect, algo, model if isinstance(model, str) else str(model), path)
        label = f"{case}/{'.'.join(str(step) for step in path)}"
        eph = det(f"{label}/ephemeral")
        if curve == "x25519":
            eph = bytes([eph[0] & 248]) + eph[1:31] + bytes([(eph[31] & 127) | 64])
        blob = seal(text.encode(), bytes.fromhex(w[server_key]), info, aad, eph, det(f"{label}/nonce", nonce_len))
        set_path(body, path, blob.hex())
    return json.dumps(body, ensure_ascii=False)


def dv_answer_fields(answer: dict, streamed: bool, dialect: str, algo: str):
    sealed, dropped = [], []
    rid, model = str(answer.get("id", "")), str(answer.get("model", ""))
    key = "delta" if streamed else "message"
    for i, choice in enumerate(answer.get("choices", [])):
        msg = choice.get(key) or {}
        if streamed and msg.get("content") == "":
            dropped.append(["choices", i, key, "content"])
            msg = {k: v for k, v in msg.items() if k != "content"}
        # DV's proxy seals content and reasoning_content; signing-proxy also seals vLLM 0.32's `reasoning`.
        for field in ("content", "reasoning_content", "reasoning"):
            if isinstance(msg.get(field), str):
                aad = dv_response_aad(algo, model, rid, i, field, DV_NONCE, TS) if dialect == "dv-v2" else b""
                sealed.append((["choices", i, key, field], aad, msg[field]))
    return sealed, dropped


def near_answer_fields(answer: dict, endpoint: str, streamed: bool, all_fields: bool):
    sealed = []

    def field(path, value):
        if isinstance(value, str) and value:
            sealed.append((path, b"", value))

    if endpoint == "chatCompletions":
        key = "delta" if streamed else "message"
        for i, choice in enumerate(answer.get("choices", [])):
            msg = choice.get(key)
            if not isinstance(msg, dict):
                continue
            at = ["choices", i, key]
            content = msg.get("content")
            if isinstance(content, list):
                for j, part in enumerate(content):
                    field(at + ["content", j, "text"], part.get("text"))
            else:
                field(at + ["content"], content)
            field(at + ["reasoning_content"], msg.get("reasoning_content"))
            field(at + ["reasoning"], msg.get("reasoning"))
            if isinstance(msg.get("audio"), dict):
                field(at + ["audio", "data"], msg["audio"].get("data"))
            if all_fields:
                field(at + ["refusal"], msg.get("refusal"))
                for j, call in enumerate(msg.get("tool_calls") or []):
                    for name in ("arguments", "name"):
                        field(at + ["tool_calls", j, "function", name], call.get("function", {}).get(name))
                for list_name in ("content", "refusal"):
                    for j, entry in enumerate((choice.get("logprobs") or {}).get(list_name) or []):
                        entry_at = ["choices", i, "logprobs", list_name, j]
                        field(entry_at + ["token"], entry.get("token"))
                        if isinstance(entry.get("bytes"), list):
                            sealed.append((entry_at + ["bytes"], b"", compact(entry["bytes"])))
                        for k, top in enumerate(entry.get("top_logprobs") or []):
                            field(entry_at + ["top_logprobs", k, "token"], top.get("token"))
                            if isinstance(top.get("bytes"), list):
                                sealed.append((entry_at + ["top_logprobs", k, "bytes"], b"", compact(top["bytes"])))
    elif endpoint == "completions":
        for i, choice in enumerate(answer.get("choices", [])):
            field(["choices", i, "text"], choice.get("text"))
    elif endpoint == "embeddings":
        for i, item in enumerate(answer.get("data", [])):
            if isinstance(item.get("embedding"), list):
                sealed.append((["data", i, "embedding"], b"", compact(item["embedding"])))
    elif endpoint == "rerank":
        for i, result in enumerate(answer.get("results", [])):
            field(["results", i, "document", "text"], (result.get("document") or {}).get("text"))
    elif endpoint == "score":
        if answer.get("score") is not None:
            sealed.append((["score"], b"", compact(answer["score"])))
    return sealed, []


def aci_answer_fields(answer: dict, endpoint: str, streamed: bool, algo: str, model: str):
    sealed, dropped = [], []
    rid = answer["id"] if isinstance(answer.get("id"), str) else ""

    def index(entry, position):
        value = entry.get("index")
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else position

    def field(path, name, value):
        if isinstance(value, str):
            sealed.append((path, aci_response_aad(algo, model, rid, name, ACI_NONCE, TS), value))

    if endpoint == "embeddings":
        for i, item in enumerate(answer.get("data", [])):
            if item.get("embedding") is not None:
                name = f"data.{index(item, i)}.embedding"
                sealed.append((["data", i, "embedding"], aci_response_aad(algo, model, rid, name, ACI_NONCE, TS),
                               compact(item["embedding"])))
        return sealed, dropped
    key = "delta" if streamed else "message"
    for i, choice in enumerate(answer.get("choices", [])):
        n = index(choice, i)
        if endpoint == "completions":
            field(["choices", i, "text"], f"choices.{n}.text", choice.get("text"))
            continue
        msg = choice.get(key)
        if not isinstance(msg, dict):
            continue
        if streamed and msg.get("content") == "":
            dropped.append(["choices", i, key, "content"])
            msg = {k: v for k, v in msg.items() if k != "content"}
        for name in ("content", "reasoning", "reasoning_content"):
            field(["choices", i, key, name], f"choices.{n}.{key}.{name}", msg.get(name))
        if not streamed and isinstance(msg.get("audio"), dict):
            field(["choices", i, key, "audio", "data"], f"choices.{n}.message.audio.data", msg["audio"].get("data"))
    return sealed, dropped


def answer_fields(dialect, algo, endpoint, answer, streamed, all_fields, model):
    if dialect.startswith("dv"):
        return dv_answer_fields(answer, streamed, dialect, algo)
    if dialect.startswith("near"):
        return near_answer_fields(answer, endpoint, streamed, all_fields)
    return aci_answer_fields(answer, endpoint, streamed, algo, model)


def headers_for(w: dict, dialect: str, algo: str, all_fields: bool) -> dict:
    if dialect == "aci-v2":
        x = algo == ACI_X_ALGO
        return {"X-E2EE-Version": "2", "X-Client-Pub-Key": w["aci_client_x25519_public" if x else "client_ecdsa_public"],
                "X-Model-Pub-Key": w["aci_x25519_public" if x else "server_ecdsa_public"],
                "X-E2EE-Nonce": ACI_NONCE, "X-E2EE-Timestamp": str(TS)}
    pub = "ecdsa_public" if algo == "ecdsa" else "ed25519_public"
    headers = {"X-Signing-Algo": algo, "X-Client-Pub-Key": w[f"client_{pub}"], "X-Model-Pub-Key": w[f"server_{pub}"]}
    if dialect.startswith("dv"):
        headers["X-E2EE-Version"] = dialect[-1]
        if dialect == "dv-v2":
            headers.update({"X-E2EE-Nonce": DV_NONCE, "X-E2EE-Timestamp": str(TS)})
    else:
        headers["X-Encryption-Version"] = dialect[-1]
        if all_fields:
            headers["X-Encrypt-All-Fields"] = "true"
    return headers


def sse(events: list) -> str:
    """vLLM's framing, with a comment, an error event, CRLF on one event, and the end marker."""
    out = ": keep-alive\n\n"
    for k, event in enumerate(events):
        out += f"data: {json.dumps(event)}" + ("\r\n\r\n" if k == 1 else "\n\n")
    out += 'data: {"error": {"message": "late", "code": 500}}\n\n'
    return out + "data: [DONE]\n\n"


def body_specs() -> list[dict]:
    """(name, dialect, algo, endpoint, all-fields, plain request, paths to seal, answer, stream events)."""
    parts = [{"type": "text", "text": "look at this"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    chat_answer = {"id": "chatcmpl-42", "object": "chat.completion", "created": 1750000001, "model": "served/model",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi \"there\"\n\u00e9\U0001f600",
                                                        "reasoning_content": "thought", "reasoning": "thought"},
                                "logprobs": None, "finish_reason": "stop"},
                               {"index": 1, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "x": 1e-05}}
    chat_events = [
        {"id": "chatcmpl-42", "model": "served/model", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"id": "chatcmpl-42", "model": "served/model", "choices": [{"index": 0, "delta": {"reasoning_content": "hm"}}]},
        {"id": "chatcmpl-42", "model": "served/model", "choices": [{"index": 0, "delta": {"content": "Hel"}, "logprobs": None}]},
        {"id": "chatcmpl-42", "model": "served/model", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
         "usage": {"total_tokens": 5}},
    ]
    dv_chat = {"model": MODEL, "temperature": 0.5, "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": parts},
        {"role": "user", "content": parts},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "and \"quotes\" \u00e9\n"},
    ]}
    near_tools = {"model": "m", "messages": [
        {"role": "user", "content": "What is the weather?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "name": "weather", "tool_call_id": "call_1", "content": "sunny"},
    ], "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather now",
                                                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}}}
    near_tool_answer = {"id": "chatcmpl-7", "choices": [{"index": 0, "message": {
        "role": "assistant", "content": None, "refusal": "", "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Bergen\"}"}}]},
        "logprobs": {"content": [{"token": "We", "logprob": -0.25, "bytes": [87, 101],
                                  "top_logprobs": [{"token": "We", "logprob": -0.25, "bytes": [87, 101]}]}]}}]}
    aci_chat = {"model": MODEL, "stream": True, "messages": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                                     {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]},
        {"role": "user", "content": parts},
    ]}
    aci_chat_answer = {"id": "chatcmpl-aci", "model": "not-the-request-model", "choices": [
        {"index": 2, "message": {"role": "assistant", "content": "a picture", "reasoning": None,
                                 "reasoning_content": "looked", "audio": {"id": "au1", "data": "UklGRg=="}}}]}
    aci_events = [{"id": "chatcmpl-aci", "choices": [{"index": 0, "delta": {"content": "", "reasoning": "r"}},
                                                     {"delta": {"content": "x"}}]},
                  {"id": "chatcmpl-aci", "choices": [{"index": 0, "delta": {"content": "a"}}]}]
    embeddings_answer = {"id": "embd-1", "object": "list", "model": "e", "data": [
        {"index": 0, "object": "embedding", "embedding": [0.015625, -2.5e-07, 3.0, 1e+20]},
        {"index": 1, "object": "embedding", "embedding": [-0.5, 0.25]}], "usage": {"prompt_tokens": 2}}
    completion_answer = {"id": "cmpl-1", "model": "m", "choices": [{"index": 0, "text": " world", "logprobs": None},
                                                                   {"index": 1, "text": ""}]}
    completion_events = [{"id": "cmpl-1", "choices": [{"index": 0, "text": " wo"}]},
                         {"id": "cmpl-1", "choices": [{"index": 0, "text": "rld", "finish_reason": "length"}]}]
    return [
        dict(name="dv-v2-ecdsa-chat", dialect="dv-v2", algo="ecdsa", endpoint="chatCompletions", all_fields=False,
             request=dv_chat, paths=[["messages", 0, "content"], ["messages", 1, "content", 0, "text"],
                                     ["messages", 2, "content"], ["messages", 4, "content"]],
             answer=chat_answer, events=chat_events),
        dict(name="dv-v2-ed25519-chat", dialect="dv-v2", algo="ed25519", endpoint="chatCompletions", all_fields=False,
             request=dv_chat, paths=[["messages", 0, "content"], ["messages", 1, "content", 0, "text"],
                                     ["messages", 2, "content", 0, "text"], ["messages", 4, "content"]],
             answer=chat_answer, events=chat_events),
        dict(name="dv-v1-ed25519-chat", dialect="dv-v1", algo="ed25519", endpoint="chatCompletions", all_fields=False,
             request={"model": "m", "messages": [{"role": "user", "content": "hi"}]}, paths=[["messages", 0, "content"]],
             answer=chat_answer, events=chat_events),
        # DV binds str(model): a number as Python prints it.
        dict(name="dv-v2-ecdsa-number-model", dialect="dv-v2", algo="ecdsa", endpoint="chatCompletions",
             all_fields=False, request={"model": 7, "messages": [{"role": "user", "content": "hi"}]},
             paths=[["messages", 0, "content"]], answer=chat_answer | {"model": 8}, events=None),
        dict(name="near-v2-ed25519-chat-all", dialect="near-v2", algo="ed25519", endpoint="chatCompletions",
             all_fields=True, request=near_tools,
             paths=[["messages", 0, "content"], ["messages", 1, "tool_calls", 0, "function", "name"],
                    ["messages", 1, "tool_calls", 0, "function", "arguments"], ["messages", 2, "name"],
                    ["messages", 2, "content"], ["tools", 0, "function", "name"],
                    ["tools", 0, "function", "description"], ["tools", 0, "function", "parameters"],
                    ["tool_choice", "function", "name"]],
             answer=near_tool_answer, events=[near_tool_answer | {"choices": [
                 {"index": 0, "delta": near_tool_answer["choices"][0]["message"],
                  "logprobs": near_tool_answer["choices"][0]["logprobs"]}]}]),
        dict(name="near-v1-ecdsa-chat", dialect="near-v1", algo="ecdsa", endpoint="chatCompletions", all_fields=False,
             request={"model": "m", "messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "x",
                                                                                     "reasoning_content": "rc"}]},
             paths=[["messages", 0, "content"], ["messages", 1, "content"], ["messages", 1, "reasoning_content"]],
             answer=chat_answer, events=chat_events),
        dict(name="near-v1-ecdsa-completions", dialect="near-v1", algo="ecdsa", endpoint="completions", all_fields=False,
             request={"model": "m", "prompt": ["Hello", [1, 2, 3], "again"], "max_tokens": 5},
             paths=[["prompt", 0], ["prompt", 2]], answer=completion_answer, events=completion_events),
        dict(name="near-v1-ed25519-embeddings", dialect="near-v1", algo="ed25519", endpoint="embeddings",
             all_fields=False, request={"model": "e", "input": ["first", "second"]},
             paths=[["input", 0], ["input", 1]], answer=embeddings_answer, events=None),
        dict(name="near-v2-ecdsa-rerank", dialect="near-v2", algo="ecdsa", endpoint="rerank", all_fields=False,
             request={"model": "r", "query": "q?", "documents": ["d0", {"text": "d1"}]},
             paths=[["query"], ["documents", 0], ["documents", 1, "text"]],
             answer={"id": "rerank-1", "results": [{"index": 1, "document": {"text": "d1"}, "relevance_score": 0.75}]},
             events=None),
        dict(name="near-v2-ed25519-score", dialect="near-v2", algo="ed25519", endpoint="score", all_fields=False,
             request={"model": "s", "text_1": "a", "text_2": "b"}, paths=[["text_1"], ["text_2"]],
             answer={"id": "score-1", "data": [{"index": 0, "score": 0.5}], "score": 0.5}, events=None),
        dict(name="aci-x25519-chat", dialect="aci-v2", algo=ACI_X_ALGO, endpoint="chatCompletions", all_fields=False,
             request=aci_chat, paths=[["messages", 0, "content"], ["messages", 1, "content", 0, "text"],
                                      ["messages", 1, "content", 1, "image_url", "url"],
                                      ["messages", 1, "content", 2, "input_audio", "data"], ["messages", 2, "content"]],
             answer=aci_chat_answer, events=aci_events),
        dict(name="aci-secp256k1-completions", dialect="aci-v2", algo=ACI_SECP_ALGO, endpoint="completions",
             all_fields=False, request={"model": MODEL, "prompt": "Once upon"}, paths=[["prompt"]],
             answer=completion_answer, events=completion_events),
        dict(name="aci-x25519-embeddings", dialect="aci-v2", algo=ACI_X_ALGO, endpoint="embeddings", all_fields=False,
             request={"model": MODEL, "input": ["a", [1, 2], "b"]}, paths=[["input", 0], ["input", 2]],
             answer=embeddings_answer, events=None),
    ]


def bodies(w: dict) -> list[dict]:
    out = []
    for spec in body_specs():
        d, algo, endpoint = spec["dialect"], spec["algo"], spec["endpoint"]
        model = spec["request"].get("model")
        answer_text = json.dumps(spec["answer"])  # ", " and ": " separators: the server must keep them
        sealed, dropped = answer_fields(d, algo, endpoint, spec["answer"], False, spec["all_fields"], model)
        entry = {
            "name": spec["name"], "dialect": d, "algo": algo, "endpoint": endpoint,
            "headers": headers_for(w, d, algo, spec["all_fields"]),
            "request": encrypt_request(w, spec["name"], d, algo, spec["request"], spec["paths"]),
            "forwarded": spec["request"],
            "answer": answer_text,
            "sealed": [{"path": p, "aad": a.decode(), "plaintext": t} for p, a, t in sealed],
            "dropped": dropped,
        }
        if spec["events"] is not None:
            entry["stream"] = sse(spec["events"])
            entry["stream_sealed"] = []
            entry["stream_dropped"] = []
            for k, event in enumerate(spec["events"]):
                sealed, dropped = answer_fields(d, algo, endpoint, event, True, spec["all_fields"], model)
                entry["stream_sealed"] += [{"event": k, "path": p, "aad": a.decode(), "plaintext": t} for p, a, t in sealed]
                entry["stream_dropped"] += [{"event": k, "path": p} for p in dropped]
        out.append(entry)
    return out


def open_request_field(w: dict, body: dict, path: list) -> str:
    """Opens one sealed request field as the server would (the Python side's own check of a body vector)."""
    suite, _ = client_suite(body["dialect"], body["algo"])
    _, open_, info, curve, _ = SUITES[suite]
    if body["dialect"] == "aci-v2":
        secret = w["aci_x25519_secret"] if body["algo"] == ACI_X_ALGO else w["server_ecdsa_secret"]
    else:
        secret = w["server_ecdsa_secret"] if body["algo"] == "ecdsa" else w["server_x25519_secret"]
    model = body["forwarded"].get("model", "")
    aad = request_aad(body["dialect"], body["algo"], model if isinstance(model, str) else str(model), path)
    blob = bytes.fromhex(get_path(json.loads(body["request"]), path))
    return open_(blob, bytes.fromhex(secret), info, aad).decode()


def render(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        VECTORS.write_text(render(generate()))
        print(f"wrote {VECTORS}")
    else:
        sys.stdout.write(render(generate()))
