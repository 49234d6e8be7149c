# syntax=docker/dockerfile:1
#
# signing-proxy image: a release build with the Swift runtime linked statically, on a slim Debian base
# that matches the build image's distribution (Debian 12 "bookworm"), so the shared libraries we link
# (libsecp256k1, and libsodium for E2EE) are the same package versions at build and run time.
#
#   docker build -t signing-proxy .
#   docker run --rm -e MODEL_NAME=tiny -e TOKEN=secret -e DEV=1 -p 8000:8000 signing-proxy
#
# Without a Docker engine or registry, `make image` builds this file unchanged with podman (docs/DEPLOY.md).
# Reproducible (docs/DEPLOY.md, "Reproducible image"): every RUN deletes the apt and dpkg logs and ldconfig's
# aux-cache, which differ between two builds from the same inputs; Swift code is built without debug info
# (-gnone), whose Clang module signatures differ from build to build; the dependency versions come from
# deploy/Package.resolved (committed, unlike the developers' Package.resolved, which .dockerignore leaves out).
#
# GPU evidence: libnvidia-ml.so.1 is not in the image; the NVIDIA container runtime mounts it when the
# container gets a GPU (NVIDIA_DRIVER_CAPABILITIES must include "utility"). See docs/DEPLOY.md.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends pkg-config libsecp256k1-dev libsodium-dev \
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log

WORKDIR /build

# Dependencies first: this layer is reused until Package.swift or the pinned versions change. The build fails
# here when deploy/Package.resolved no longer matches Package.swift's dependencies.
COPY Package.swift ./
COPY deploy/Package.resolved ./Package.resolved
RUN swift package resolve --force-resolved-versions

COPY . .
# BUILD_TEST_DOUBLES=1 (make image) also builds mock-vllm and dstack-simulator for the test-doubles target, in the
# same step: a later step could not reuse this one's objects, because a reproducible build (--timestamp 0) resets
# every file time. Only /staging reaches the image, so the image is the same either way.
ARG BUILD_TEST_DOUBLES=0
RUN swift build -c release --product signing-proxy --static-swift-stdlib -Xswiftc -gnone \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/signing-proxy" /staging/ \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && mkdir -p /doubles/Fixtures \
    && if [ "$BUILD_TEST_DOUBLES" = 1 ]; then \
         swift build -c release --product mock-vllm --static-swift-stdlib -Xswiftc -gnone \
         && swift build -c release --product dstack-simulator --static-swift-stdlib -Xswiftc -gnone \
         && cp "$(swift build -c release --show-bin-path)/mock-vllm" "$(swift build -c release --show-bin-path)/dstack-simulator" /doubles/ \
         && cp -r Fixtures/dstack /doubles/Fixtures/; \
       fi

# ---------------------------------------------------------------------------------------------------
# Test doubles for the image and compose tests (`--target test-doubles --build-arg BUILD_TEST_DOUBLES=1`):
# mock-vllm and dstack-simulator with the dstack fixtures. A default build skips this stage (a builder that builds
# every stage gets it empty).
FROM ${RUNTIME_IMAGE} AS test-doubles
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libsecp256k1-1 libsodium23 libstdc++6 zlib1g \
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log
WORKDIR /doubles
COPY --from=build /doubles/ /doubles/
ENV PATH=/doubles:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}

# Runtime libraries only, as ldd lists them for the static-stdlib build: libsecp256k1, libsodium, libstdc++ and zlib
# (the last two already in the slim base; named so they stay), plus CA roots for outbound TLS.
# bash (in the base) serves the health check; no Python, no curl.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends ca-certificates libsecp256k1-1 libsodium23 libstdc++6 zlib1g \
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \
       /var/cache/ldconfig/aux-cache \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin signing-proxy

WORKDIR /app
COPY --from=build --chown=root:root /staging/ /app/

ENV LISTEN_PORT=8000 \
    VLLM_BASE_URL=http://vllm:8000 \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

USER signing-proxy:signing-proxy
EXPOSE 8000

# Docker keeps this health check; an OCI-format build (podman/buildah, as `make image` does for a reproducible
# digest) drops it, so docker-compose.yaml declares the same check (docs/DEPLOY.md, "Reproducible image").
# GET / answers 200 {} (docs/API.md, Routes). Plain bash /dev/tcp keeps the image free of HTTP clients. When the proxy
# terminates TLS itself (TLS_KEY_PATH set) bash cannot speak TLS: the check is then a TCP connect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${LISTEN_PORT:-8000} || exit 1; [ -n \"${TLS_KEY_PATH:-}\" ] && exit 0; printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 4 status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

ENTRYPOINT ["/app/signing-proxy"]
CMD ["serve"]
