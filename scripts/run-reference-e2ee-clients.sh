#!/usr/bin/env bash
# Runs the published E2EE client scripts, unchanged, against signing-proxy with keys from the dstack simulator, in
# front of `mock-vllm --echo` (the answer is the prompt, so a client sees its own text come back decrypted):
#
#   - Dstack-TEE/vllm-proxy tests/app/verify_{nonstream,stream}_{ecdsa,ed25519}_e2ee.py (DV v1 and v2), each run as
#     its README says (BASE_URL, API_KEY, MODEL_NAME), at least a second apart: the scripts derive their v2 nonce
#     from the current second, so two runs within one second are, rightly, a replay;
#   - nearai/nearai-cloud-verifier py/encrypted_chat_verifier.py's four examples (ECDSA and Ed25519, streamed and
#     not), through interop/reference_clients/near_encrypted_chat.py, which imports that module and replaces two
#     helpers only (its docstring says which and why).
#
# Nothing of theirs is copied into this repository: give the checkouts.
#
# Usage: scripts/run-reference-e2ee-clients.sh REFERENCE_DIR
#   REFERENCE_DIR holds the checkouts as vllm-proxy/ and nearai-cloud-verifier/ (a missing one is skipped, and said).
#   PYTHON   an interpreter with requests, cryptography, pynacl, eth-account and dcap-qvl (their requirements;
#            keep them out of the project's .venv), default python3.
#   BIN_DIR  where signing-proxy, mock-vllm and dstack-simulator are (default .build/debug).
# Exit status 0 when every script that ran passed.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_DIR=${1:-${REFERENCE_DIR:-}}
PYTHON=${PYTHON:-python3}
BIN_DIR=${BIN_DIR:-$REPO/.build/debug}
MODEL=${MODEL:-tiny}
TOKEN=reference-e2ee-token

if [ -z "$REFERENCE_DIR" ] || [ ! -d "$REFERENCE_DIR" ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
for binary in signing-proxy mock-vllm dstack-simulator; do
    [ -x "$BIN_DIR/$binary" ] || { echo "$BIN_DIR/$binary missing: run swift build first" >&2; exit 2; }
done
"$PYTHON" -c 'import requests, cryptography, nacl, eth_account' 2>/dev/null || {
    echo "$PYTHON lacks the clients' packages: python3 -m venv /tmp/ref-venv && /tmp/ref-venv/bin/pip install" \
        "requests cryptography pynacl eth-account dcap-qvl, then PYTHON=/tmp/ref-venv/bin/python" >&2
    exit 2
}

WORK=$(mktemp -d /tmp/reference-e2ee-XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN_DIR/dstack-simulator" --socket "$WORK/dstack.sock" --fixtures "$REPO/Fixtures/dstack" >"$WORK/simulator.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do [ -S "$WORK/dstack.sock" ] && break; sleep 0.1; done
[ -S "$WORK/dstack.sock" ] || { cat "$WORK/simulator.log" >&2; exit 1; }

"$BIN_DIR/mock-vllm" --port 0 --model "$MODEL" --echo >"$WORK/mock.out" 2>"$WORK/mock.log" &
PIDS+=($!)
for _ in $(seq 300); do grep -q 'listening on' "$WORK/mock.out" && break; sleep 0.1; done
UPSTREAM=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/mock.out")
[ -n "$UPSTREAM" ] || { cat "$WORK/mock.log" >&2; exit 1; }

PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN_DIR/signing-proxy" serve --host 127.0.0.1 --port "$PORT" --upstream "$UPSTREAM" --model-name "$MODEL" \
    --token "$TOKEN" --dstack-endpoint "$WORK/dstack.sock" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
BASE_URL="http://127.0.0.1:$PORT"
for _ in $(seq 300); do curl -sf "$BASE_URL/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$BASE_URL/" >/dev/null || { cat "$WORK/proxy.log" >&2; exit 1; }
echo "signing-proxy $BASE_URL (keys from the dstack simulator) in front of mock-vllm --echo $UPSTREAM"

RESULTS=()
FAILED=0
record() {  # name, exit status
    if [ "$2" -eq 0 ]; then RESULTS+=("PASS  $1"); else RESULTS+=("FAIL  $1 (exit $2)"); FAILED=1; fi
}

DV="$REFERENCE_DIR/vllm-proxy"
if [ -d "$DV/tests/app" ]; then
    echo "vllm-proxy at $(git -C "$DV" rev-parse --short HEAD 2>/dev/null || echo '?')"
    for script in verify_nonstream_ecdsa_e2ee verify_stream_ecdsa_e2ee verify_nonstream_ed25519_e2ee verify_stream_ed25519_e2ee; do
        echo "=== vllm-proxy tests/app/$script.py"
        status=0
        BASE_URL="$BASE_URL" API_KEY="$TOKEN" MODEL_NAME="$MODEL" timeout 120 "$PYTHON" "$DV/tests/app/$script.py" || status=$?
        record "vllm-proxy tests/app/$script.py" "$status"
        sleep 1.2  # their v2 nonce is the current second
    done
else
    RESULTS+=("SKIP  vllm-proxy: no checkout at $DV")
fi

NEAR="$REFERENCE_DIR/nearai-cloud-verifier"
if [ -f "$NEAR/py/encrypted_chat_verifier.py" ]; then
    echo "nearai-cloud-verifier at $(git -C "$NEAR" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "=== nearai-cloud-verifier py/encrypted_chat_verifier.py (four examples)"
    status=0
    BASE_URL="$BASE_URL" API_KEY="$TOKEN" timeout 300 "$PYTHON" "$REPO/interop/reference_clients/near_encrypted_chat.py" \
        "$NEAR" "$MODEL" || status=$?
    record "nearai-cloud-verifier py/encrypted_chat_verifier.py, streaming and not, ecdsa and ed25519" "$status"
else
    RESULTS+=("SKIP  nearai-cloud-verifier: no checkout at $NEAR")
fi

if grep -q "please only reply\|Hello, how are you" "$WORK/proxy.log"; then
    RESULTS+=("FAIL  a client's plaintext prompt appears in the proxy's log")
    FAILED=1
fi

echo
echo "Results:"
printf '  %s\n' "${RESULTS[@]}"
exit "$FAILED"
