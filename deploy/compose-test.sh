#!/usr/bin/env bash
# `make compose-test`: bring up docker-compose.ci.yaml with docker-compose (Debian's 1.29) against
# `podman system service` on a private socket, send a completion client -> signing-proxy -> mock-vllm, verify its
# signatures with the image's own verifier, then tear everything down and check nothing is left.
source "$(dirname "$0")/lib.sh"
require_root compose-test
write_containers_conf

# The images of the last `make image` (or IMAGE and DOUBLES_IMAGE).
read_last_build || [ -n "${IMAGE:-}" ] || die "no image: run make image first"
export SIGNING_PROXY_IMAGE="${IMAGE:-$built_image}"
export TEST_DOUBLES_IMAGE="${DOUBLES_IMAGE:-$built_doubles}"
podman image exists "$SIGNING_PROXY_IMAGE" || die "no image $SIGNING_PROXY_IMAGE: run make image first"
podman image exists "$TEST_DOUBLES_IMAGE" || die "no image $TEST_DOUBLES_IMAGE: run make image first"
log "testing $SIGNING_PROXY_IMAGE (commit ${built_commit:-unknown})"

project="spci$$"
run_dir="$STATE_DIR/compose-$$"
mkdir -p "$run_dir"
export DOCKER_HOST="unix://$run_dir/podman.sock"
export PROXY_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export MODEL_NAME=tiny TOKEN=compose-test-token
compose=(docker-compose -p "$project" -f "$REPO_ROOT/docker-compose.ci.yaml")
service_pid=""
start=$(date +%s)

teardown() {
    local status=$?
    "${compose[@]}" down -v --timeout 2 >/dev/null 2>&1 || true
    [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
    local left
    left="$(podman ps -aq --filter "label=com.docker.compose.project=$project")"
    if [ -n "$left" ]; then
        log "FAIL: containers left after docker-compose down: $left"
        podman rm -f $left >/dev/null 2>&1
        status=1
    fi
    if podman network exists "${project}_default" 2>/dev/null || podman volume exists "${project}_agent" 2>/dev/null; then
        log "FAIL: network or volume left after docker-compose down"
        podman network rm -f "${project}_default" >/dev/null 2>&1
        podman volume rm -f "${project}_agent" >/dev/null 2>&1
        status=1
    fi
    rm -rf "$run_dir"
    [ $status -eq 0 ] && log "compose-test: passed in $(($(date +%s) - start)) s; nothing left running"
    exit $status
}
trap teardown EXIT

podman system service --time=0 "$DOCKER_HOST" >"$run_dir/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 100); do [ -S "$run_dir/podman.sock" ] && break; sleep 0.1; done
[ -S "$run_dir/podman.sock" ] || die "podman system service made no socket: $(cat "$run_dir/service.log")"

"${compose[@]}" up -d
proxy="$("${compose[@]}" ps -q signing-proxy)"
[ -n "$proxy" ] || die "no signing-proxy container"

# HEALTHCHECK never runs on its own here (no systemd timers): run the compose file's check until it passes.
for attempt in $(seq 120); do
    if podman healthcheck run "$proxy" >/dev/null 2>&1; then break; fi
    [ "$attempt" = 120 ] && die "signing-proxy never became healthy: $(podman logs "$proxy" 2>&1 | tail -5)"
    sleep 0.5
done
log "ok   signing-proxy healthy ($(podman inspect -f '{{.State.Healthcheck.Status}}' "$proxy"))"

set +e
out="$(podman run --rm --network host --entrypoint /app/signing-proxy "$SIGNING_PROXY_IMAGE" \
    verify chat --url "http://127.0.0.1:$PROXY_PORT" --token "$TOKEN" --json 2>&1)"
set -e
failed="$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("|".join(sorted(c["id"] for c in d["checks"] if c["status"]=="fail")))' <<<"$out" 2>/dev/null || echo unreadable)"
if [ "$failed" = "dcap.quote-signature|ed25519/dcap.quote-signature" ]; then
    log "ok   completion through compose: client -> signing-proxy -> vllm (mock-vllm); ecdsa and ed25519 signatures verify; only the simulated quote's DCAP signature fails"
else
    log "FAIL completion through compose: failed checks $failed: $out"
    exit 1
fi
# The upstream is the vllm service, reached by name over the compose network (VLLM_BASE_URL=http://vllm:8000).
if podman exec "$proxy" bash -c 'exec 3<>/dev/tcp/vllm/8000' 2>/dev/null; then
    log "ok   signing-proxy reaches vllm:8000 by service name on the compose network"
else
    log "FAIL signing-proxy cannot reach vllm:8000"
    exit 1
fi
