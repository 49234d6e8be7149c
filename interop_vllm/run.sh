#!/usr/bin/env bash
# `make test-vllm`: the interop tests against a real vLLM 0.32 on the CPU (interop_vllm/README.md).
# Installs the venv and builds the tiny model when missing, starts two vLLM servers on loopback (the
# generative `tiny` and the pooling `tiny-embed`, same weights), waits for /health, runs pytest on
# interop_vllm/, and always stops both servers. Prints each phase's duration.
# Environment: BIN_DIR (the project's binaries), VLLM_VENV, VLLM_MODEL_DIR, VLLM_START_TIMEOUT (s),
# PYTEST_ARGS (e.g. "-k responses -x").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-.venv-vllm}
MODEL_DIR=${VLLM_MODEL_DIR:-.cache/vllm-tiny}
START_TIMEOUT=${VLLM_START_TIMEOUT:-600}
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vllm-test.XXXXXX")
phase() { printf '%s %s s\n' "$1" "$2" | tee -a "$LOG_DIR/timings.txt"; }

t0=$(date +%s)
VLLM_VENV=$VENV interop_vllm/install.sh
t1=$(date +%s); phase "install:" $((t1 - t0))
"$VENV/bin/python" interop_vllm/build_model.py "$MODEL_DIR" 2>&1 | grep -v 'Writing model shards' || true
[ -f "$MODEL_DIR/.complete" ] || { echo "model build failed" >&2; exit 1; }
t2=$(date +%s); phase "model:" $((t2 - t1))

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
GEN_PORT=$(free_port)
EMBED_PORT=$(free_port)
while [ "$EMBED_PORT" = "$GEN_PORT" ]; do EMBED_PORT=$(free_port); done

PIDS=()
stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Small on purpose: 2 shared cores. Eager mode skips torch.compile (about 30 s per server on 2 cores);
# 512 tokens of context and 1 GiB of KV cache are plenty for the tests' short prompts. The Responses
# store is on so that GET /v1/responses/{id} finds what it retrieves.
start_vllm() { # name port args...
  local name=$1 port=$2; shift 2
  VLLM_CPU_KVCACHE_SPACE=1 VLLM_ENABLE_RESPONSES_API_STORE=1 VLLM_LOGGING_LEVEL=${VLLM_LOGGING_LEVEL:-WARNING} \
    setsid "$VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$MODEL_DIR" \
    --host 127.0.0.1 --port "$port" --max-model-len 512 --max-num-seqs 4 --dtype float32 --enforce-eager \
    --disable-log-stats --disable-uvicorn-access-log "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=($!)
}
start_vllm tiny "$GEN_PORT" --served-model-name tiny
start_vllm tiny-embed "$EMBED_PORT" --served-model-name tiny-embed --runner pooling --convert embed

wait_health() { # name port pid
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "http://127.0.0.1:$2/health" >/dev/null 2>&1; do
    if ! kill -0 "$3" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "vLLM $1 did not become healthy; log:" >&2; tail -40 "$LOG_DIR/$1.log" >&2; exit 1
    fi
    sleep 1
  done
}
wait_health tiny "$GEN_PORT" "${PIDS[0]}"
wait_health tiny-embed "$EMBED_PORT" "${PIDS[1]}"
t3=$(date +%s); phase "startup:" $((t3 - t2))

status=0
VLLM_BASE_URL="http://127.0.0.1:$GEN_PORT" VLLM_EMBED_URL="http://127.0.0.1:$EMBED_PORT" \
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider interop_vllm ${PYTEST_ARGS:-} || status=$?
t4=$(date +%s); phase "tests:" $((t4 - t3))
phase "total:" $((t4 - t0))
echo "vLLM logs: $LOG_DIR"
exit $status
