"""A bare ASGI app that answers like vLLM's OpenAI server, run under uvicorn (vLLM's HTTP server).

The chaos tool (`benchmarks/Sources/Chaos`, `make attack`) puts signing-proxy in front of it to check
what uvicorn's own HTTP parsers (`--http h11`, `--http httptools`) make of the bytes the proxy sends
upstream. No framework: uvicorn is what parses the requests, which is the point.

Every request received is appended as one JSON line to the file named by VLLM_ASGI_REQUEST_LOG, in the
format of mock-vllm's `--request-log`: method, path, framing headers, body size and FNV-1a 64 of the
body, and the completion id answered. The tool counts upstream requests and matches answers to
requests with it. A completion's `mock_header_delay_ms` field holds its answer back that long, as a real
model takes time to generate (mock-vllm's `--request-faults` reads the same field).

    VLLM_ASGI_REQUEST_LOG=/tmp/log.jsonl uvicorn --app-dir benchmarks/uvicorn vllm_asgi:app \
        --host 127.0.0.1 --port 8001 --http h11
"""

import asyncio
import json
import os
import secrets
import time

MODEL = os.environ.get("VLLM_ASGI_MODEL", "tiny")
TOKENS = [" hello", " from", " uvicorn", ",", " one", " token", " at", " a", " time", "."]
_LOG_PATH = os.environ.get("VLLM_ASGI_REQUEST_LOG")


def fnv1a64(data: bytes) -> str:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def log_request(scope, body, answer_id):
    if not _LOG_PATH:
        return
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    line = {
        "method": scope["method"],
        "path": scope["path"],
        "content_length": headers.get("content-length"),
        "transfer_encoding": headers.get("transfer-encoding"),
        "body_bytes": len(body) if body is not None else None,
        "body_fnv1a64": fnv1a64(body) if body is not None else None,
        "id": answer_id,
    }
    with open(_LOG_PATH, "a", encoding="utf-8") as log:
        log.write(json.dumps(line, separators=(",", ":")) + "\n")


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def send_json(send, status, payload):
    data = json.dumps(payload, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


def models():
    return {
        "object": "list",
        "data": [{"id": MODEL, "object": "model", "created": int(time.time()), "owned_by": "vllm", "root": MODEL}],
    }


async def completion(scope, receive, send):
    body = await read_body(receive)
    if body is None:
        return
    try:
        request = json.loads(body)
        if not isinstance(request, dict):
            raise ValueError("not an object")
    except ValueError:
        log_request(scope, body, None)
        await send_json(send, 400, {"object": "error", "message": "invalid JSON", "type": "BadRequestError", "code": 400})
        return
    answer_id = "chatcmpl-" + secrets.token_hex(8)
    log_request(scope, body, answer_id)
    # Like mock-vllm --request-faults: the time a model takes before its answer's head.
    delay = request.get("mock_header_delay_ms")
    if isinstance(delay, int) and delay > 0:
        await asyncio.sleep(delay / 1000)
    count = max(1, min(int(request.get("max_tokens") or 8), 64))
    created = int(time.time())
    pieces = [TOKENS[index % len(TOKENS)] for index in range(count)]
    if not request.get("stream"):
        await send_json(
            send,
            200,
            {
                "id": answer_id,
                "object": "chat.completion",
                "created": created,
                "model": MODEL,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "".join(pieces)}, "finish_reason": "length"}
                ],
                "usage": {"prompt_tokens": 10, "total_tokens": 10 + count, "completion_tokens": count},
            },
        )
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]}
    )
    for index, piece in enumerate(pieces):
        last = index == count - 1
        event = {
            "id": answer_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "length" if last else None}],
        }
        data = b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    if path in ("/v1/chat/completions", "/v1/completions") and method == "POST":
        await completion(scope, receive, send)
        return
    log_request(scope, None, None)
    if path == "/v1/models" and method == "GET":
        await send_json(send, 200, models())
    elif path == "/health" and method == "GET":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
    else:
        await send_json(send, 404, {"detail": "Not Found"})
