"""Interop: the official dstack Python SDK (dstack-sdk on PyPI) against our dstack-simulator.

Run from the repository root with BIN_DIR set to the Swift bin path (`make test` does this):
    BIN_DIR=$(swift build --show-bin-path) pytest interop/test_dstack_sdk.py
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from dstack_sdk import DstackClient

from conftest import FIXTURES

REPO_ROOT = Path(__file__).resolve().parent.parent
DSTACK_FIXTURES = FIXTURES / "dstack"
RUNTIME_EVENT = 0x08000001

TINY_ECDSA_KEY = "f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765"
TINY_ECDSA_LINK0 = (
    "809854ace6ef4dc48c5c8edc6f2946254ceebb798773ba8a1659dd76ca3fcace"
    "517b14311b7b88509a99bf5dacfecc6c0018470011acbd5ebb8c48f059357f1200"
)
TINY_ED25519_KEY = "b1bd5bf3207b1feadc6ec9f82747905f00d00be9e0628c8b4e6f449ac96b66bf"
SIMULATOR_APP_ID = "5bb4ff9a3837357f19dc176407a5709c62eb6c56"


def _binary() -> Path:
    bin_dir = os.environ.get("BIN_DIR") or str(REPO_ROOT / ".build" / "debug")
    path = Path(bin_dir) / "dstack-simulator"
    if not path.exists():
        pytest.fail(f"{path} not found: build it (swift build) and set BIN_DIR")
    return path


def _wait_for_socket(path: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dstack-simulator exited early with status {process.returncode}")
        if os.path.exists(path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
                return
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.05)
    raise TimeoutError(f"dstack-simulator did not listen on {path} within {timeout} s")


@pytest.fixture(scope="module")
def dstack_endpoint():
    # A short directory: unix socket paths are limited to 107 bytes.
    directory = tempfile.mkdtemp(prefix="dsk-", dir="/tmp")
    sock = os.path.join(directory, "dstack.sock")
    process = subprocess.Popen(
        [str(_binary()), "--socket", sock, "--fixtures", str(DSTACK_FIXTURES), "--log-level", "warning"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_socket(sock, process)
        yield sock
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture()
def dstack_client(dstack_endpoint):
    return DstackClient(dstack_endpoint, timeout=10)


def _replay(events, imr):
    register = bytes(48)
    for event in events:
        if event["imr"] != imr:
            continue
        if event["event_type"] == RUNTIME_EVENT:
            digest = hashlib.sha384(
                RUNTIME_EVENT.to_bytes(4, "little")
                + b":"
                + event["event"].encode()
                + b":"
                + bytes.fromhex(event["event_payload"])
            ).digest()
            if event["digest"]:
                assert event["digest"] == digest.hex()
        else:
            digest = bytes.fromhex(event["digest"])
        register = hashlib.sha384(register + digest).digest()
    return register


def test_version(dstack_client):
    answer = dstack_client.version()
    assert answer.version.endswith("-simulator")


def test_get_key_secp256k1(dstack_client):
    answer = dstack_client.get_key("tiny/ecdsa-signing-key", "signing")
    assert answer.key == TINY_ECDSA_KEY
    assert len(answer.signature_chain) == 2
    assert answer.signature_chain[0] == TINY_ECDSA_LINK0


def test_get_key_ed25519(dstack_client):
    answer = dstack_client.get_key("tiny/ed25519-signing-key", "signing", "ed25519")
    assert answer.key == TINY_ED25519_KEY


def test_get_quote_patches_report_data(dstack_client):
    report_data = b"signing-proxy interop"
    answer = dstack_client.get_quote(report_data)
    quote = answer.decode_quote()
    padded = report_data.ljust(64, b"\0")
    assert quote[568:632] == padded
    assert answer.report_data == padded.hex()
    events = json.loads(answer.event_log)
    for index in range(4):
        assert _replay(events, index) == quote[376 + 48 * index : 424 + 48 * index]


def test_info_is_consistent_with_the_quote(dstack_client):
    info = dstack_client.info()
    assert info.app_id == SIMULATOR_APP_ID
    compose_hash = hashlib.sha256(info.tcb_info.app_compose.encode()).hexdigest()
    assert info.compose_hash == compose_hash
    assert info.tcb_info.compose_hash == compose_hash
    quote = dstack_client.get_quote(b"\x01").decode_quote()
    assert quote[232:280] == bytes([1]) + bytes.fromhex(compose_hash) + bytes(15)
    assert info.tcb_info.rtmr3 == quote[520:568].hex()
    runtime = {e.event: e.event_payload for e in info.tcb_info.event_log if e.event_type == RUNTIME_EVENT}
    assert runtime["app-id"] == info.app_id
    assert runtime["instance-id"] == info.instance_id
    assert runtime["compose-hash"] == compose_hash
