#!/usr/bin/env bash
# Writes docker-compose.yaml (stdin) to stdout with both images pinned by digest, ready to deploy and measure:
#   deploy/pin-compose.sh --signing-proxy REGISTRY/signing-proxy@sha256:<hex> --vllm vllm/vllm-openai@sha256:<hex> \
#     < docker-compose.yaml > app/docker-compose.yaml
# Only the `image:` line of each of the two services changes. A reference without a sha256 digest is refused.
set -euo pipefail
proxy="" vllm=""
while [ $# -gt 0 ]; do
    case "$1" in
    --signing-proxy) proxy="$2"; shift 2 ;;
    --vllm) vllm="$2"; shift 2 ;;
    *) echo "usage: $0 --signing-proxy NAME@sha256:HEX --vllm NAME@sha256:HEX < docker-compose.yaml" >&2; exit 2 ;;
    esac
done
for reference in "$proxy" "$vllm"; do
    [[ "$reference" =~ ^[^@\$[:space:]]+@sha256:[0-9a-f]{64}$ ]] || {
        echo "not NAME@sha256:<64 lowercase hex>: '$reference'" >&2
        exit 2
    }
done
awk -v proxy="$proxy" -v vllm="$vllm" '
    /^[^ #]/ { section = $1 }
    section == "services:" && /^  [^ #][^:]*:[ ]*$/ { service = $1; sub(":", "", service) }
    section == "services:" && /^    image:/ {
        if (service == "signing-proxy") { print "    image: " proxy; done_proxy = 1; next }
        if (service == "vllm") { print "    image: " vllm; done_vllm = 1; next }
    }
    { print }
    END { if (!done_proxy || !done_vllm) { print "no image line for signing-proxy or vllm" > "/dev/stderr"; exit 1 } }
'
