"""The proxy in front of a real vLLM 0.32 (started by interop_vllm/run.sh, `make test-vllm`).

VLLM_BASE_URL is the generative server (`tiny`), VLLM_EMBED_URL the pooling one (`tiny-embed`, same weights).
Without them every test here is skipped: `make test-interop` does not collect this folder, and a bare
`pytest interop_vllm` has no vLLM to talk to.
"""

import importlib.util
import os
from pathlib import Path

import pytest

# The process helpers of interop/conftest.py (one copy of how the proxy is started), loaded under another
# name: pytest already calls this file `conftest`.
_spec = importlib.util.spec_from_file_location(
    "interop_conftest", Path(__file__).resolve().parent.parent / "interop" / "conftest.py"
)
interop = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(interop)

TOKEN = interop.TOKEN
MODEL = "tiny"
EMBED_MODEL = "tiny-embed"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("VLLM_BASE_URL") and os.environ.get("VLLM_EMBED_URL"):
        return
    skip = pytest.mark.skip(reason="no real vLLM: run `make test-vllm` (VLLM_BASE_URL, VLLM_EMBED_URL unset)")
    for item in items:
        item.add_marker(skip)


def _start_proxy(upstream: str, model: str):
    port = interop.free_port()
    proc = interop.Process([
        interop.bin_path("signing-proxy"), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--upstream", upstream, "--model-name", model, "--token", TOKEN, "--dev",
    ])
    base = f"http://127.0.0.1:{port}"
    interop.wait_http(base + "/", proc=proc)
    return base, proc


@pytest.fixture
def cut_proxy(vllm_url):
    """A proxy whose upstream is vLLM behind a relay that cuts each answer after `cut_after` bytes (head
    included); returns (proxy base URL, relay)."""
    from urllib.parse import urlsplit

    from relay import CuttingRelay

    started = []

    def start(cut_after: int):
        upstream = urlsplit(vllm_url)
        relay = CuttingRelay((upstream.hostname, upstream.port), cut_after)
        base, proc = _start_proxy(relay.url, MODEL)
        started.append((relay, proc))
        return base, relay

    yield start
    for relay, proc in started:
        proc.stop()
        relay.close()


@pytest.fixture(scope="session")
def vllm_url() -> str:
    return os.environ["VLLM_BASE_URL"]


@pytest.fixture(scope="session")
def embed_url() -> str:
    return os.environ["VLLM_EMBED_URL"]


@pytest.fixture(scope="session")
def proxy(vllm_url):
    """signing-proxy --dev in front of the generative vLLM; its base URL."""
    base, proc = _start_proxy(vllm_url, MODEL)
    yield base
    proc.stop()


@pytest.fixture(scope="session")
def embed_proxy(embed_url):
    """signing-proxy --dev in front of the pooling vLLM; its base URL."""
    base, proc = _start_proxy(embed_url, EMBED_MODEL)
    yield base
    proc.stop()
