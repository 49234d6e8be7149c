#!/usr/bin/env bash
# `make image-test`: run the image the last `make image` built and check it from outside:
# refuses to start without an agent and without DEV=1; runs as uid 10001; with the dstack simulator's socket
# mounted, derives keys, signs a completion against mock-vllm that the verifier accepts, answers
# /v1/attestation/report with the simulated quote and says why there is no GPU evidence; the health check is
# healthy. Loopback only (--network host, everything bound to 127.0.0.1). Tear-down removes every container.
source "$(dirname "$0")/lib.sh"
require_root image-test
write_containers_conf

# The images of the last `make image` (or IMAGE and DOUBLES_IMAGE).
read_last_build || [ -n "${IMAGE:-}" ] || die "no image: run make image first"
image="${IMAGE:-$built_image}"
doubles="${DOUBLES_IMAGE:-$built_doubles}"
podman image exists "$image" || die "no image $image: run make image first"
podman image exists "$doubles" || die "no image $doubles: run make image first"
log "testing $image (commit ${built_commit:-unknown})"

label="signing-proxy.image-test=$$"
run_dir="$STATE_DIR/test-$$"
token="image-test-token"
failures=0

teardown() {
    local ids
    ids="$(podman ps -aq --filter "label=$label")"
    [ -n "$ids" ] && podman rm -f -t 2 $ids >/dev/null 2>&1
    rm -rf "$run_dir"
    if [ -n "$(podman ps -aq --filter "label=$label")" ]; then
        log "FAIL: containers left running after tear-down"
        exit 1
    fi
}
trap teardown EXIT

pass() { log "ok   $*"; }
fail() { log "FAIL $*"; failures=$((failures + 1)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# JSON field from stdin, by a Python expression over `d` (a test helper, like interop/).
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

mkdir -p "$run_dir/agent"
# The proxy runs as uid 10001 and must be able to connect to the agent's socket: the simulator runs as that user.
chown 10001:10001 "$run_dir/agent"
proxy_port="$(free_port)"
vllm_port="$(free_port)"
test_start=$(date +%s)

# 1. No agent and no DEV=1: serve refuses to start.
set +e
refusal="$(timeout 60 podman run --rm --label "$label" --network none -e MODEL_NAME=tiny -e TOKEN="$token" "$image" 2>&1)"
status=$?
set -e
if [ $status -ne 0 ] && grep -q "refusing to start" <<<"$refusal" && grep -q "DEV=1" <<<"$refusal"; then
    pass "serve without an agent and without DEV=1 exits $status: $(grep -o 'refusing to start: [^.]*' <<<"$refusal" | head -1)"
else
    fail "serve without an agent: exit $status, output: $refusal"
fi

# 2. Test doubles: the dstack simulator on a socket in $run_dir/agent, mock-vllm on loopback.
podman run -d --name "sp-sim-$$" --label "$label" --network none --user 10001:10001 -v "$run_dir/agent:/run/agent" \
    "$doubles" dstack-simulator --socket /run/agent/dstack.sock --fixtures /doubles/Fixtures/dstack >/dev/null
podman run -d --name "sp-vllm-$$" --label "$label" --network host \
    "$doubles" mock-vllm --host 127.0.0.1 --port "$vllm_port" --model tiny >/dev/null
for _ in $(seq 100); do [ -S "$run_dir/agent/dstack.sock" ] && break; sleep 0.1; done
[ -S "$run_dir/agent/dstack.sock" ] || die "the dstack simulator made no socket: $(podman logs "sp-sim-$$" 2>&1 | tail -5)"

# 3. The proxy, as the image runs it (user, entrypoint, serve), with the image's own health check command: an
# OCI-format image carries no HEALTHCHECK, so the same command is given here, as docker-compose.yaml does.
health='exec 3<>/dev/tcp/127.0.0.1/${LISTEN_PORT:-8000} || exit 1; printf "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3 && IFS= read -r -t 4 status <&3 && [[ $status == "HTTP/1.1 200"* ]]'
podman run -d --name "sp-proxy-$$" --label "$label" --network host \
    -v "$run_dir/agent/dstack.sock:/var/run/dstack.sock" \
    -e MODEL_NAME=tiny -e TOKEN="$token" -e LISTEN_PORT="$proxy_port" -e VLLM_BASE_URL="http://127.0.0.1:$vllm_port" \
    --health-cmd "[\"/bin/bash\", \"-c\", $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$health")]" \
    --health-interval disable \
    "$image" serve --host 127.0.0.1 >/dev/null

healthy=""
for _ in $(seq 60); do
    if podman healthcheck run "sp-proxy-$$" >/dev/null 2>&1; then healthy=1; break; fi
    [ "$(podman inspect -f '{{.State.Running}}' "sp-proxy-$$")" = true ] || break
    sleep 0.5
done
if [ -n "$healthy" ]; then
    pass "health check: $(podman inspect -f '{{.State.Health.Status}}' "sp-proxy-$$" 2>/dev/null || podman inspect -f '{{.State.Healthcheck.Status}}' "sp-proxy-$$")"
else
    fail "health check never passed; proxy log: $(podman logs "sp-proxy-$$" 2>&1 | tail -5)"
    exit 1
fi

# 4. uid 10001, read from the host's /proc.
pid="$(podman inspect -f '{{.State.Pid}}' "sp-proxy-$$")"
uids="$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")"
[ "$uids" = "10001 10001 10001 10001" ] && pass "runs as uid 10001 (/proc/$pid/status Uid: $uids)" || fail "uids $uids"

# 5. Keys derived by the (simulated) agent.
logs="$(podman logs "sp-proxy-$$" 2>&1)"
if grep -q "signing keys derived by the dstack agent" <<<"$logs" && grep -q "keys.origin=tee" <<<"$logs"; then
    pass "keys derived from the agent: $(grep -o 'signing.address=[0-9a-zA-Zx]*' <<<"$logs" | head -1)"
else
    fail "no TEE key derivation in the log: $logs"
fi

verifier() { podman run --rm --label "$label" --network host --entrypoint /app/signing-proxy "$image" verify "$@"; }

# 6. A completion, plain and streamed, signed and verified by the image's own verifier: every signature, binding
# and key-provenance check passes; only the simulated quote's DCAP signature may fail.
for mode in "" "--stream"; do
    set +e
    out="$(verifier chat --url "http://127.0.0.1:$proxy_port" --token "$token" $mode --json 2>&1)"
    set -e
    verdict="$(json '"|".join(sorted(c["id"] for c in d["checks"] if c["status"]=="fail"))+" "+str(all(c["status"]=="pass" for c in d["checks"] if c["id"].split("/")[-1] in ("signature.ecdsa","signature.ed25519","signature.response-hash","signature.request-hash","report.nonce","quote.report-data","compose.hash","key-provenance.app-key")))' <<<"$out" 2>/dev/null || echo "unreadable")"
    if [ "$verdict" = "dcap.quote-signature|ed25519/dcap.quote-signature True" ]; then
        pass "completion ${mode:-(plain)}: signatures verify (ecdsa, ed25519), bound to the report; only the simulated quote's DCAP signature fails"
    else
        fail "completion ${mode:-(plain)}: $verdict: $out"
    fi
done

# 7. The attestation report: the simulated quote, and why there is no GPU evidence.
nonce="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
report="$run_dir/report.json"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$proxy_port/v1/attestation/report?nonce=$nonce" -o "$report" \
    || fail "GET /v1/attestation/report failed"
gpu="$(json 'd["gpu_evidence"]["status"]+": "+d["gpu_evidence"]["reason"]' <"$report" 2>/dev/null || echo "missing")"
[[ "$gpu" == unavailable:* ]] && pass "gpu_evidence $gpu" || fail "gpu_evidence: $gpu"
set +e
checked="$(podman run --rm --label "$label" -v "$report:/report.json:ro" --entrypoint /app/signing-proxy "$image" \
    verify report --file /report.json --nonce "$nonce" --json 2>&1)"
set -e
quote="$(json '" ".join(c["id"]+"="+c["status"] for c in d["checks"] if c["id"] in ("quote.parse","report.nonce","quote.report-data","measurements.rtmr-replay","dcap.quote-signature"))' <<<"$checked" 2>/dev/null || echo "$checked")"
if [ "$quote" = "report.nonce=pass quote.parse=pass dcap.quote-signature=fail quote.report-data=pass measurements.rtmr-replay=pass" ]; then
    pass "attestation report: the simulated TDX quote ($(json 'len(d["intel_quote"])//2' <"$report") bytes), bound to our nonce; its DCAP signature is the simulator's"
else
    fail "attestation report checks: $quote"
fi

# 8. The image pin, read from the attested app-compose: the simulator serves dstack's own sample app, which has
# no signing-proxy service, and the repository's compose file names its images by placeholder until pinned.
digest="$(image_digest "$image")"
set +e
pin="$(podman run --rm --label "$label" -v "$report:/report.json:ro" --entrypoint /app/signing-proxy "$image" \
    verify image --file /report.json --nonce "$nonce" --digest "$digest" --json 2>&1)"
set -e
detail="$(json '[c["detail"] for c in d["checks"] if c["id"]=="image.pin"][0]' <<<"$pin" 2>/dev/null || echo "$pin")"
[[ "$detail" == 'no service "signing-proxy"'* ]] && pass "verify image reads the attested app-compose: $detail" || fail "verify image: $detail"
pinned="$run_dir/docker-compose.pinned.yaml"
"$REPO_ROOT/deploy/pin-compose.sh" --signing-proxy "registry.example/signing-proxy@$digest" \
    --vllm "vllm/vllm-openai@sha256:$(printf '%064d' 0)" <"$REPO_ROOT/docker-compose.yaml" >"$pinned"
check_compose() {
    podman run --rm --label "$label" -v "$1:/compose.yaml:ro" --entrypoint /app/signing-proxy "$image" \
        verify image --compose-document /compose.yaml --digest "$digest" 2>&1
}
if out="$(check_compose "$REPO_ROOT/docker-compose.yaml")"; then
    fail "verify image accepted docker-compose.yaml's placeholder digest: $out"
else
    pass "verify image refuses docker-compose.yaml as committed: $(grep -o 'image.pin .*' <<<"$out" | head -1 | cut -c1-140)…"
fi
if out="$(check_compose "$pinned")"; then
    pass "verify image accepts the compose file pinned to the built digest: $(grep -o 'image.pin .*' <<<"$out" | head -1)"
else
    fail "pinned compose file: $out"
fi

log "image-test: $(($(date +%s) - test_start)) s, $failures failure(s)"
[ $failures -eq 0 ]
