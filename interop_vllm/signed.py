"""Independent checks of what the proxy signed, from the bytes a client sent and received: eth-account and
cryptography only, no project code. The id is passed in, since each API puts it somewhere else."""

import hashlib
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eth_account import Account
from eth_account.messages import encode_defunct

from conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def check_signature(base: str, exchange_id: str, request_bytes: bytes, response_bytes: bytes) -> dict:
    """Both signatures of `exchange_id` cover exactly these bytes; returns the ECDSA record."""
    expected = f"{hashlib.sha256(request_bytes).hexdigest()}:{hashlib.sha256(response_bytes).hexdigest()}"
    ecdsa = httpx.get(f"{base}/v1/signature/{exchange_id}", headers=AUTH, timeout=10)
    assert ecdsa.status_code == 200, ecdsa.text
    record = ecdsa.json()
    assert record["text"] == expected
    assert record["signing_algo"] == "ecdsa"
    recovered = Account.recover_message(encode_defunct(text=record["text"]), signature=record["signature"])
    assert recovered == record["signing_address"]

    ed = httpx.get(f"{base}/v1/signature/{exchange_id}", params={"signing_algo": "ed25519"}, headers=AUTH, timeout=10)
    assert ed.status_code == 200, ed.text
    ed_record = ed.json()
    assert ed_record["text"] == expected
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed_record["signing_address"]))
    key.verify(bytes.fromhex(ed_record["signature"]), ed_record["text"].encode())
    return record


def assert_unsigned(base: str, exchange_id: str, settle: float = 3.0):
    """No signature for `exchange_id`, even after the proxy's publication grace (a lookup waits up to 2 s)."""
    time.sleep(settle)
    r = httpx.get(f"{base}/v1/signature/{exchange_id}", headers=AUTH, timeout=10)
    assert r.status_code == 404, f"{exchange_id} was signed: {r.text}"


def sse_events(body: bytes) -> list[tuple[str | None, dict | str]]:
    """(event name, data) for each SSE event, data parsed as JSON when it is JSON."""
    events = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].strip().decode())
        if data:
            text = "\n".join(data)
            try:
                events.append((name, json.loads(text)))
            except ValueError:
                events.append((name, text))
    return events


def _dechunk_prefix(data: bytes) -> bytes:
    """The complete chunks at the start of a chunked body (the rest has not arrived yet)."""
    out, pos = bytearray(), 0
    while (end := data.find(b"\r\n", pos)) >= 0:
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0 or len(data) < end + 2 + size + 2:
            break
        out += data[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
    return bytes(out)


def leave_mid_stream(base: str, path: str, body: bytes, id_of, headers=None) -> str:
    """Sends a streamed request on a raw socket, reads until `id_of(event)` names the exchange, then leaves
    with the rest unread (the kernel resets the connection). Returns the id."""
    url = urlsplit(base)
    head = [
        f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json",
        f"Content-Length: {len(body)}", f"Authorization: Bearer {TOKEN}",
    ] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    s = socket.create_connection((url.hostname, url.port), timeout=60)
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        seen = b""
        while True:
            chunk = s.recv(256)
            assert chunk, f"stream ended before an id: {seen[:500]!r}"
            seen += chunk
            if b"\r\n\r\n" not in seen:
                continue
            head_bytes, rest = seen.split(b"\r\n\r\n", 1)
            assert head_bytes.startswith(b"HTTP/1.1 200"), seen[:300]
            assert b"transfer-encoding: chunked" in head_bytes.lower(), head_bytes
            text = _dechunk_prefix(rest)
            complete = text[: text.rfind(b"\n\n") + 2] if b"\n\n" in text else b""
            for _, data in sse_events(complete):
                found = id_of(data) if isinstance(data, dict) else None
                if found:
                    return found
    finally:
        s.close()


def stream_until_cut(base: str, path: str, body: bytes, headers=None) -> bytes:
    """The body bytes a client received from a streamed answer that the upstream cut (httpx reports the
    incomplete chunked body as an error, which is the point)."""
    received = b""
    try:
        with httpx.stream(
            "POST", f"{base}{path}", content=body, timeout=60,
            headers={**AUTH, "Content-Type": "application/json", **(headers or {})},
        ) as response:
            assert response.status_code == 200, response.read()
            for chunk in response.iter_raw():
                received += chunk
    except httpx.HTTPError:
        pass
    return received
