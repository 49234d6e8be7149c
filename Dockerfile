# syntax=docker/dockerfile:1
#
# signing-proxy image: a release build with the Swift runtime linked statically, on a slim Debian base
# that matches the build image's distribution (Debian 12 "bookworm"), so the one shared library we link
# (libsecp256k1) is the same package version at build and run time.
#
#   docker build -t signing-proxy .
#   docker run --rm -e MODEL_NAME=tiny -e TOKEN=secret -e DEV=1 -p 8000:8000 signing-proxy
#
# GPU evidence: libnvidia-ml.so.1 is not in the image; the NVIDIA container runtime mounts it when the
# container gets a GPU (NVIDIA_DRIVER_CAPABILITIES must include "utility"). See docs/DEPLOY.md.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends pkg-config libsecp256k1-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first: this layer is reused until Package.swift or Package.resolved change.
COPY Package.swift Package.resolved ./
RUN swift package resolve --force-resolved-versions

COPY . .
RUN swift build -c release --product signing-proxy --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/signing-proxy" /staging/ \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/

# ---------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}

# Runtime libraries only, as ldd lists them for the static-stdlib build: libsecp256k1, libstdc++ and zlib
# (the last two already in the slim base; named so they stay), plus CA roots for outbound TLS.
# bash (in the base) serves the health check; no Python, no curl.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates libsecp256k1-1 libstdc++6 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin signing-proxy

WORKDIR /app
COPY --from=build --chown=root:root /staging/ /app/

ENV LISTEN_PORT=8000 \
    VLLM_BASE_URL=http://vllm:8000 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

USER signing-proxy:signing-proxy
EXPOSE 8000

# GET / answers 200 {} (docs/API.md, Routes). Plain bash /dev/tcp keeps the image free of HTTP clients. When the proxy
# terminates TLS itself (TLS_KEY_PATH set) bash cannot speak TLS: the check is then a TCP connect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${LISTEN_PORT:-8000} || exit 1; [ -n \"${TLS_KEY_PATH:-}\" ] && exit 0; printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 4 status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

ENTRYPOINT ["/app/signing-proxy"]
CMD ["serve"]
