"""`serve` with keys from the dstack agent (our simulator), TLS terminated inside the proxy, checked
with independent code: the expected address is computed here with HKDF (cryptography) and eth-account."""

import asyncio
import datetime
import hashlib
import json
import os
import secrets
import ssl
import subprocess
import threading
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_account.messages import encode_defunct

from conftest import FIXTURES, MODEL, TOKEN, Process, bin_path, free_port

SIM_FIXTURES = FIXTURES / "dstack"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def derive(path: str) -> bytes:
    root = bytes.fromhex(json.loads((SIM_FIXTURES / "appkeys.json").read_text())["k256_key"])
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"RATLS", info=path.encode()).derive(root)


def self_signed(directory: Path) -> tuple[str, str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(cert_path), str(key_path), hashlib.sha256(spki).digest()


@pytest.fixture
def start_tee(start_mock):
    """Starts dstack-simulator, mock-vllm and `serve` with keys from the simulator (no --dev)."""
    stack = []

    def start(tls: bool, canned_gpu: bool = True):
        tmp = Path(tempfile.mkdtemp(prefix="tee-"))
        socket_path = str(tmp / "dstack.sock")
        simulator = Process([bin_path("dstack-simulator"), "--socket", socket_path, "--fixtures", str(SIM_FIXTURES)])
        stack.append(simulator)
        deadline = time.monotonic() + 30
        while not os.path.exists(socket_path):
            assert time.monotonic() < deadline, simulator.stderr()
            time.sleep(0.05)
        upstream = start_mock()
        port = free_port()
        args = [
            bin_path("signing-proxy"), "serve", "--host", "127.0.0.1", "--port", str(port), "--upstream", upstream,
            "--model-name", MODEL, "--token", TOKEN, "--dstack-endpoint", socket_path,
        ]
        fingerprint = None
        if tls:
            cert, key, fingerprint = self_signed(tmp)
            args += ["--tls-cert", cert, "--tls-key", key]
        # Without canned evidence the report states that no GPU (NVML) is present, as on this machine.
        proxy = Process(args, env={"GPU_NO_HW_MODE": "1" if canned_gpu else "0"})
        stack.append(proxy)
        base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proxy.proc.poll() is None, proxy.stderr()
            try:
                if httpx.get(base + "/", verify=False, timeout=2).status_code == 200:
                    return base, fingerprint
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, proxy.stderr()
            time.sleep(0.1)

    yield start
    for process in reversed(stack):
        process.stop()


@pytest.fixture
def tee_proxy(start_tee):
    return start_tee(tls=True)


def test_keys_come_from_the_agent_and_reports_bind_them(tee_proxy):
    base, fingerprint = tee_proxy
    http = httpx.Client(verify=False, timeout=30)
    expected = Account.from_key(derive("tiny/ecdsa-signing-key")).address
    assert expected == "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4"

    nonce = secrets.token_bytes(32)
    report = http.get(f"{base}/v1/attestation/report", params={"nonce": nonce.hex(), "signing_address": expected})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["signing_address"] == expected
    # The simulator's quotes cannot carry a valid quoting-enclave signature: serve says so.
    assert body["mode"] == "simulated"
    quote = bytes.fromhex(body["intel_quote"])
    assert quote[568:632] == bytes.fromhex(expected[2:]) + bytes(12) + nonce
    assert body["key_provenance"]["path"] == "tiny/ecdsa-signing-key"

    # TLS-bound layout: sha256(address ‖ sha256(SPKI of the certificate actually served)) ‖ nonce.
    bound = http.get(f"{base}/v1/attestation/report", params={"nonce": nonce.hex(), "include_tls_fingerprint": "true"})
    bound_body = bound.json()
    assert bound_body["tls_cert_fingerprint"] == fingerprint.hex()
    quote = bytes.fromhex(bound_body["intel_quote"])
    assert quote[568:600] == hashlib.sha256(bytes.fromhex(expected[2:]) + fingerprint).digest()
    assert quote[600:632] == nonce

    ed_public = Ed25519PrivateKey.from_private_bytes(derive("tiny/ed25519-signing-key")).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    ed = http.get(f"{base}/v1/attestation/report", params={"signing_algo": "ed25519", "nonce": nonce.hex()}).json()
    assert ed["signing_address"] == ed_public
    assert bytes.fromhex(ed["intel_quote"])[568:600] == bytes.fromhex(ed_public)

    assert http.get(f"{base}/v1/attestation/report", params={"nonce": "zz" * 32}).status_code == 400
    assert http.get(f"{base}/v1/attestation/report", params={"nonce": "ab" * 31}).status_code == 400
    foreign = http.get(f"{base}/v1/attestation/report", params={"signing_address": "0x" + "11" * 20})
    assert foreign.status_code == 404

    # A completion over TLS verifies with the TEE-derived key.
    request_bytes = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()
    response = http.post(f"{base}/v1/chat/completions", content=request_bytes, headers=AUTH)
    assert response.status_code == 200
    chat_id = json.loads(response.content.split(b"\n")[0][6:])["id"]
    record = http.get(f"{base}/v1/signature/{chat_id}", headers=AUTH).json()
    assert record["text"] == f"{hashlib.sha256(request_bytes).hexdigest()}:{hashlib.sha256(response.content).hexdigest()}"
    assert Account.recover_message(encode_defunct(text=record["text"]), signature=record["signature"]) == expected
    ed_record = http.get(f"{base}/v1/signature/{chat_id}", params={"signing_algo": "ed25519"}, headers=AUTH).json()
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(ed_public)).verify(
        bytes.fromhex(ed_record["signature"]), record["text"].encode())


def test_serve_without_agent_or_dev_refuses_quickly():
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        result = subprocess.run(
            [bin_path("signing-proxy"), "serve", "--port", str(free_port()), "--upstream", "http://127.0.0.1:9",
             "--model-name", MODEL, "--token", TOKEN, "--dstack-endpoint", str(Path(tmp) / "missing.sock")],
            capture_output=True, text=True, timeout=30,
        )
        elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 5
    assert "--dev" in result.stderr and "dstack" in result.stderr
    assert TOKEN not in result.stderr


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_verify_chat_fails_only_the_simulated_dcap_signature(start_tee, stream):
    """`signing-proxy verify chat` against serve + dstack-simulator + mock-vllm: every check has a reason,
    and the only mandatory failure is the simulated quote's hardware signature."""
    base, _ = start_tee(tls=False, canned_gpu=False)
    args = [bin_path("signing-proxy"), "verify", "chat", "--url", base, "--token", TOKEN, "--json"]
    if stream:
        args.append("--stream")
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is False
    checks = report["checks"]
    assert all(check["detail"] for check in checks)
    failed = sorted(check["id"] for check in checks if check["status"] == "fail")
    assert failed == ["dcap.quote-signature", "ed25519/dcap.quote-signature"], failed
    passed = {check["id"] for check in checks if check["status"] == "pass"}
    for required in ("signature.ecdsa", "signature.request-hash", "signature.response-hash", "quote.report-data",
                     "measurements.rtmr-replay", "compose.mr-config-id", "dcap.pck-chain", "ed25519/signature.ed25519"):
        assert required in passed, (required, sorted(passed))
    assert TOKEN not in result.stdout and TOKEN not in result.stderr


def verify_cli(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run([bin_path("signing-proxy"), "verify", *args, "--token", TOKEN, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    return result, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def statuses(report: dict) -> dict:
    return {check["id"]: check for check in report.get("checks", [])}


def test_verify_chat_over_tls_with_the_self_signed_certificate_checks_the_binding(start_tee):
    """`verify chat --cacert` against serve terminating TLS itself: the connection's certificate is recorded and
    its SPKI matches the report's TLS binding, for both algorithms; only the simulated quote signature fails."""
    base, fingerprint = start_tee(tls=True, canned_gpu=False)
    cert = max(Path(tempfile.gettempdir()).glob("tee-*/cert.pem"), key=lambda p: p.stat().st_mtime)
    for stream in ([], ["--stream"]):
        result, report = verify_cli("chat", "--url", base, "--cacert", str(cert), "--require-tls", *stream)
        checks = statuses(report)
        failed = sorted(i for i, c in checks.items() if c["status"] == "fail")
        assert failed == ["dcap.quote-signature", "ed25519/dcap.quote-signature"], (failed, report, result.stderr)
        for required in ("tls.connection", "quote.tls-binding", "ed25519/quote.tls-binding", "quote.report-data",
                         "exchange.response", "signature.ecdsa", "ed25519/signature.ed25519"):
            assert checks[required]["status"] == "pass", (required, checks.get(required))
        assert fingerprint.hex() in checks["tls.connection"]["detail"]


def test_verify_over_tls_refuses_an_untrusted_certificate_with_a_clear_error(start_tee, tmp_path):
    base, _ = start_tee(tls=True)
    other_cert, _, _ = self_signed(tmp_path)
    for extra in ([], ["--cacert", other_cert]):
        result, report = verify_cli("chat", "--url", base, *extra)
        assert result.returncode != 0
        checks = report["checks"]
        assert [c["id"] for c in checks] == ["exchange"], checks
        assert "not trusted" in checks[0]["detail"] and "--cacert" in checks[0]["detail"], checks[0]["detail"]


def tls_relay(cert: str, key: str, upstream_port: int):
    """A TLS terminator with its own certificate in front of the proxy's TLS port: another server key.
    Returns (port, stop)."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    loop = asyncio.new_event_loop()

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def handle(outer_reader, outer_writer):
        try:
            inner_reader, inner_writer = await asyncio.open_connection("127.0.0.1", upstream_port, ssl=client)
        except (OSError, ssl.SSLError):
            outer_writer.close()
            return
        await asyncio.gather(pipe(outer_reader, inner_writer), pipe(inner_reader, outer_writer))

    started = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0, ssl=server))
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def stop():
        loop.call_soon_threadsafe(started.close)
        loop.call_soon_threadsafe(loop.stop)

    return started.sockets[0].getsockname()[1], stop


def test_verify_over_tls_fails_the_binding_when_another_key_terminates_tls(start_tee, tmp_path):
    """The client trusts the terminator's certificate, but the report binds the proxy's own key: the binding fails."""
    base, fingerprint = start_tee(tls=True)
    relay_cert, relay_key, relay_fingerprint = self_signed(tmp_path)
    port, stop = tls_relay(relay_cert, relay_key, int(base.rsplit(":", 1)[1]))
    try:
        url = f"https://127.0.0.1:{port}"
        result, report = verify_cli("chat", "--url", url, "--cacert", relay_cert)
        assert result.returncode != 0
        checks = statuses(report)
        assert "tls.connection" in checks, report
        assert checks["tls.connection"]["status"] == "pass"
        assert relay_fingerprint.hex() in checks["tls.connection"]["detail"]
        for prefix in ("", "ed25519/"):
            binding = checks[prefix + "quote.tls-binding"]
            assert binding["status"] == "fail", binding
            assert "is not the connection's certificate" in binding["detail"]
    finally:
        stop()


def test_verify_exchange_against_development_keys_reports_the_signature_checks(dev_proxy):
    base, _ = dev_proxy()
    for stream in ([], ["--stream"]):
        result, report = verify_cli("exchange", "--url", base, "--path", "/v1/chat/completions", *stream)
        assert result.returncode != 0
        checks = statuses(report)
        for passed in ("exchange.response", "signature.record", "signature.request-hash", "signature.response-hash",
                       "signature.ecdsa", "ed25519/signature.ed25519"):
            assert checks[passed]["status"] == "pass", (passed, checks.get(passed))
        failed = sorted(i for i, c in checks.items() if c["status"] == "fail")
        assert failed == ["ed25519/report.fetch", "report.fetch"], failed
        assert "dev mode" in checks["report.fetch"]["detail"]


SIGNED_ROUTES = [
    ("/v1/chat/completions", True), ("/v1/completions", True), ("/v1/responses", True), ("/v1/messages", True),
    ("/v1/embeddings", False), ("/v1/rerank", False), ("/rerank", False), ("/v2/rerank", False), ("/v1/score", False),
    ("/score", False), ("/pooling", False), ("/classify", False),
]


def test_verify_exchange_checks_every_signed_route_end_to_end(start_tee):
    """`verify exchange --path` on every signed route, streamed where the route streams: the answer is read by the
    verifier's own grammar, both signatures and both attestation reports verify; only the simulated quote's
    hardware signature fails."""
    base, _ = start_tee(tls=False, canned_gpu=False)
    for path, streams in SIGNED_ROUTES:
        for stream in ([], ["--stream"]) if streams else ([],):
            result, report = verify_cli("exchange", "--url", base, "--path", path, *stream)
            checks = statuses(report)
            failed = sorted(i for i, c in checks.items() if c["status"] == "fail")
            assert failed == ["dcap.quote-signature", "ed25519/dcap.quote-signature"], (path, stream, report)
            assert ("stream" if stream else "JSON answer") in checks["exchange.response"]["detail"]
            for required in ("signature.ecdsa", "ed25519/signature.ed25519", "signature.response-hash", "quote.report-data"):
                assert checks[required]["status"] == "pass", (path, required)


def test_verify_exchange_inline_verifies_the_receipt_from_the_bytes_and_binds_the_key(start_tee):
    """`verify exchange --inline`: the records come from the answer itself (headers, or a stream's comment lines),
    no /v1/signature lookup is made, and the key is still bound to fresh reports."""
    base, _ = start_tee(tls=False, canned_gpu=False)
    for path, stream in (("/v1/chat/completions", []), ("/v1/chat/completions", ["--stream"]), ("/v1/responses", ["--stream"]),
                         ("/v1/messages", ["--stream"]), ("/v1/embeddings", [])):
        result, report = verify_cli("exchange", "--url", base, "--path", path, "--inline", *stream)
        checks = statuses(report)
        failed = sorted(i for i, c in checks.items() if c["status"] == "fail")
        assert failed == ["dcap.quote-signature", "ed25519/dcap.quote-signature"], (path, stream, report)
        for required in ("receipt.inline", "signature.ecdsa", "ed25519/signature.ed25519", "signature.response-hash",
                         "quote.report-data", "ed25519/quote.report-data"):
            assert checks[required]["status"] == "pass", (path, required, checks.get(required))


def test_verify_exchange_says_why_an_answer_that_did_not_end_cleanly_has_nothing_to_verify(dev_proxy, tmp_path):
    base, _ = dev_proxy("--request-faults")
    cases = [
        ("/v1/responses", {"model": MODEL, "input": "hi", "stream": True, "mock_terminal": "failed"}, "reports a failure"),
        ("/v1/responses", {"model": MODEL, "input": "hi", "stream": True, "mock_terminal": "error"}, "reports a failure"),
        ("/v1/messages", {"model": MODEL, "max_tokens": 8, "stream": True, "mock_terminal": "error",
                          "messages": [{"role": "user", "content": "hi"}]}, "reports a failure"),
        ("/v1/responses", {"model": MODEL, "input": "hi", "stream": True, "mock_fail_after": 2}, None),
        ("/v1/messages", {"model": MODEL, "max_tokens": 8, "stream": True, "mock_fail_after": 2,
                          "messages": [{"role": "user", "content": "hi"}]}, None),
    ]
    for index, (path, body, reason) in enumerate(cases):
        body_file = tmp_path / f"body-{index}.json"
        body_file.write_text(json.dumps(body))
        result, report = verify_cli("exchange", "--url", base, "--path", path, "--body", str(body_file))
        assert result.returncode != 0
        checks = report["checks"]
        assert len(checks) == 1 and checks[0]["id"] in ("exchange", "exchange.response"), (body, checks)
        if reason:
            assert reason in checks[0]["detail"] and "nothing to verify" in checks[0]["detail"], checks[0]
    # response.incomplete is a clean end: signed, and its signatures verify.
    body_file = tmp_path / "incomplete.json"
    body_file.write_text(json.dumps({"model": MODEL, "input": "hi", "stream": True, "mock_terminal": "incomplete"}))
    result, report = verify_cli("exchange", "--url", base, "--path", "/v1/responses", "--body", str(body_file))
    checks = statuses(report)
    assert checks["exchange.response"]["status"] == "pass" and checks["signature.ecdsa"]["status"] == "pass", report
