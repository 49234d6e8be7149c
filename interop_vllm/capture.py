"""Records one exchange with a running vLLM in the Fixtures/vllm-routes layout, byte for byte.

capture.py BASE_URL NAME METHOD PATH [BODY] [--out DIR]: NAME.request (the exact body sent, empty when none),
NAME.headers (status line and headers as received, CRLF, ending with an empty line) and NAME.body (the body
with the chunked transfer coding removed). A raw socket, so nothing is normalised on the way.
"""

import argparse
import socket
from pathlib import Path
from urllib.parse import urlsplit


def dechunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        pos = end + 2
        if size == 0:
            return bytes(out)
        out += data[pos:pos + size]
        pos += size + 2


def exchange(base: str, method: str, path: str, body: bytes, content_type="application/json", timeout=120.0):
    url = urlsplit(base)
    head = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    if body or method == "POST":
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = bytearray()
        while chunk := s.recv(65536):
            raw += chunk
    split = raw.index(b"\r\n\r\n") + 4
    head_bytes, rest = bytes(raw[:split]), bytes(raw[split:])
    if b"\r\ntransfer-encoding: chunked\r\n" in head_bytes.lower():
        rest = dechunk(rest)
    return head_bytes, rest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("name")
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("body", nargs="?", default="")
    parser.add_argument("--out", default="Fixtures/vllm-routes")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--escapes", action="store_true", help="read backslash escapes in BODY")
    args = parser.parse_args()
    out = Path(args.out)
    body = args.body.encode()
    if args.escapes:  # e.g. \r\n in a multipart body, read as in a Python bytes literal
        body = body.decode("unicode_escape").encode("latin-1")
    head, payload = exchange(args.base, args.method, args.path, body, args.content_type)
    (out / f"{args.name}.request").write_bytes(body)
    (out / f"{args.name}.headers").write_bytes(head)
    (out / f"{args.name}.body").write_bytes(payload)
    print(head.decode(errors="replace").splitlines()[0], len(payload), "bytes")


if __name__ == "__main__":
    main()
