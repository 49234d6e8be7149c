"""The project's own verifier (`signing-proxy verify exchange`) on every signed route, against the proxy in
front of a real vLLM with development keys: the exchange reads as signable and each signature check passes;
only the attestation report is missing (development keys have none)."""

import json
import subprocess

import pytest

from conftest import EMBED_MODEL, MODEL, TOKEN, interop

GENERATIVE = [
    ("/v1/chat/completions", False), ("/v1/chat/completions", True), ("/v1/completions", False),
    ("/v1/completions", True), ("/v1/responses", False), ("/v1/responses", True), ("/v1/messages", False),
    ("/v1/messages", True),
]
POOLING = ["/v1/embeddings", "/v1/rerank", "/rerank", "/v2/rerank", "/v1/score", "/score", "/pooling"]


def verify(base: str, path: str, model: str, stream: bool) -> list[dict]:
    args = [
        interop.bin_path("signing-proxy"), "verify", "exchange", "--url", base, "--token", TOKEN,
        "--path", path, "--model", model, "--max-tokens", "8", "--json",
    ] + (["--stream"] if stream else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=180)
    try:
        return json.loads(done.stdout)["checks"]
    except (ValueError, KeyError):
        raise AssertionError(f"exit {done.returncode}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def assert_signatures_verify(checks: list[dict]):
    by_id = {c["id"]: c for c in checks}
    assert by_id.get("exchange.response", {}).get("status") == "pass", checks
    failed = [c for c in checks if c["status"] == "fail" and c["id"].split("/")[-1] != "report.fetch"]
    assert not failed, failed
    assert any(c["status"] == "pass" and "signature" in c["id"] for c in checks), checks


@pytest.mark.parametrize("path,stream", GENERATIVE, ids=[f"{p}{' stream' if s else ''}" for p, s in GENERATIVE])
def test_verify_generative_routes(proxy, path, stream):
    assert_signatures_verify(verify(proxy, path, MODEL, stream))


@pytest.mark.parametrize("path", POOLING)
def test_verify_pooling_routes(embed_proxy, path):
    assert_signatures_verify(verify(embed_proxy, path, EMBED_MODEL, False))
