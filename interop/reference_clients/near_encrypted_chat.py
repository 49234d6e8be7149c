"""Runs nearai-cloud-verifier's `py/encrypted_chat_verifier.py` client logic, from a checkout given on the command
line, against signing-proxy (BASE_URL, API_KEY in the environment, as that script reads them). No code of it is
copied here: its module is imported and its four examples run as its `--test-both` runs them.

Two of its helpers are replaced, and only these:
- `fetch_model_public_key`: NEAR's cloud API wraps one report per model in `model_attestations`; signing-proxy
  serves one model, and its report is that model's (`signing_public_key` at the top level, docs/API.md).
- `chat_verifier.check_attestation`: dcap-qvl checks the quote against Intel's collateral, online; the dstack
  simulator's quote is simulated. `signing-proxy verify report` checks reports offline instead.
Everything else is theirs: key generation, encryption (ECIES / PyNaCl box), the request, decryption of every
chunk, the hashes of the exact bytes and the EIP-191 signature recovery with eth-account.

Usage: python near_encrypted_chat.py CHECKOUT MODEL. Exit status 0 when all four examples decrypt the echoed
prompt and their signature checks print True.
"""

import asyncio
import contextlib
import io
import os
import sys

import requests

checkout, model = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(checkout, "py"))
import chat_verifier  # noqa: E402
import encrypted_chat_verifier as near  # noqa: E402

PROMPT = "Hello, how are you?"  # the examples' own prompt, which mock-vllm --echo sends back


def fetch_model_public_key(model, signing_algo="ecdsa"):
    url = f"{near.BASE_URL}/v1/attestation/report?model={model}&signing_algo={signing_algo}"
    report = requests.get(url, headers={"Authorization": f"Bearer {near.API_KEY}"}, timeout=30).json()
    return report["signing_public_key"]


async def check_attestation(signing_address, attestation, nonce):
    print(f"(attestation of {signing_address} not checked here: simulated quote; see signing-proxy verify report)")


near.fetch_model_public_key = fetch_model_public_key
chat_verifier.check_attestation = check_attestation


def judge(output: str, streamed: bool) -> list[str]:
    problems = []
    decrypted = f"Complete decrypted response: {PROMPT}" if streamed else f"characters):\n  {PROMPT}"
    if decrypted not in output:
        problems.append("the echoed prompt was not decrypted")
    for line in ("Request hash matches: True", "Response hash matches: True", "Signature valid: True"):
        if line not in output:
            problems.append(f"missing '{line}'")
    if "✗" in output:
        problems.append("the script reported a failure (✗)")
    return problems


async def main() -> int:
    failures = 0
    for algo in ("ecdsa", "ed25519"):
        for streamed, example in ((True, near.encrypted_streaming_example), (False, near.encrypted_non_streaming_example)):
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                try:
                    await example(model, algo)
                except Exception as error:  # their verify_chat raises on a malformed signature text
                    print(f"✗ raised {type(error).__name__}: {error}")
            output = captured.getvalue()
            print(output)
            problems = judge(output, streamed)
            name = f"{'streaming' if streamed else 'non-streaming'} {algo}"
            print(f"==> NEAR encrypted_chat_verifier {name}: {'PASS' if not problems else 'FAIL: ' + '; '.join(problems)}\n")
            failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
