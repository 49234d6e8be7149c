"""Independent checks of a signed exchange with eth-account and cryptography (no project code)."""

import hashlib

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eth_account import Account
from eth_account.messages import encode_defunct

from conftest import MODEL, TOKEN


def first_chat_id(body: bytes, streamed: bool) -> str:
    import json

    if not streamed:
        return json.loads(body)["id"]
    for line in body.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            event = json.loads(line[6:])
            if isinstance(event, dict) and isinstance(event.get("id"), str):
                return event["id"]
    raise AssertionError("no chat id in stream")


def answer_id(body: bytes, streamed: bool) -> str:
    """The id a signature is filed under, on any signed route: the top-level `id` of a JSON answer; in a
    stream, the first event's `id`, or its `response.id` (Responses API) or `message.id` (Messages API)."""
    import json

    if not streamed:
        return json.loads(body)["id"]
    for line in body.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            event = json.loads(line[6:])
            for holder in (event, event.get("response"), event.get("message")):
                if isinstance(holder, dict) and isinstance(holder.get("id"), str):
                    return holder["id"]
            break
    raise AssertionError("no id in the first event of the stream")


def check_signatures(
    base: str, request_bytes: bytes, response_bytes: bytes, streamed: bool, model_prefix: bool = False,
    signed_id: str | None = None,
):
    """Recomputes both hashes and verifies both signatures the way a user would (`signed_id`: the id to look
    up, for routes other than chat; `answer_id` finds it from the bytes)."""
    chat_id = signed_id or first_chat_id(response_bytes, streamed)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    expected = f"{hashlib.sha256(request_bytes).hexdigest()}:{hashlib.sha256(response_bytes).hexdigest()}"
    if model_prefix:
        expected = f"{MODEL}:{expected}"

    ecdsa = httpx.get(f"{base}/v1/signature/{chat_id}", headers=headers, timeout=10)
    assert ecdsa.status_code == 200, ecdsa.text
    record = ecdsa.json()
    assert record["text"] == expected
    assert record["signing_algo"] == "ecdsa"
    assert len(record["signature"]) == 132 and record["signature"].startswith("0x")
    recovered = Account.recover_message(encode_defunct(text=record["text"]), signature=record["signature"])
    assert recovered.lower() == record["signing_address"].lower()
    assert recovered == record["signing_address"], "signing_address must be EIP-55 checksummed"

    ed = httpx.get(f"{base}/v1/signature/{chat_id}", params={"signing_algo": "ed25519"}, headers=headers, timeout=10)
    assert ed.status_code == 200, ed.text
    ed_record = ed.json()
    assert ed_record["text"] == expected
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed_record["signing_address"]))
    key.verify(bytes.fromhex(ed_record["signature"]), ed_record["text"].encode())
    return record
