# Shared by the image scripts (deploy/*.sh): install, podman settings, base-image stand-ins, clean export, build.
# Sourced, not run. Everything here runs as root: podman and buildah build and run rootful containers.
#
# The build machine has no Docker engine and reaches no image registry. Podman and buildah build the
# Dockerfile unchanged; the base images it names (swift:6.3-bookworm, debian:bookworm-slim) are made here
# and tagged with those names, so `FROM` resolves locally (docs/DEPLOY.md, "Building here without a
# registry").

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${IMAGE_STATE_DIR:-$REPO_ROOT/.build-image}"
IMAGE_NAME="${IMAGE_NAME:-localhost/signing-proxy}"
DOUBLES_NAME="${DOUBLES_NAME:-localhost/signing-proxy-test-doubles}"
# The host's toolchain root (the directory holding usr/bin/swift), mounted into the Swift build stand-in.
SWIFT_TOOLCHAIN="${SWIFT_TOOLCHAIN:-$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift || echo /opt/swift/usr/bin/swift)")")")")}"
# A local mirror of the Swift packages' git repositories (owner/name.git), used instead of GitHub when present.
SWIFT_PACKAGE_MIRROR="${SWIFT_PACKAGE_MIRROR:-/opt/swift-packages}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# File times inside the debian:bookworm-slim stand-in; with the same mirror state, the rootfs tarball is
# bit-identical from run to run.
BASE_SOURCE_DATE_EPOCH="${BASE_SOURCE_DATE_EPOCH:-1735689600}"
APT_PACKAGES=(podman buildah runc mmdebstrap docker-compose uidmap iptables golang-github-containernetworking-plugin-dnsname)

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

require_root() {
    [ "$(id -u)" = 0 ] || die "run as root (rootful podman/buildah): sudo make $1"
}

## Installs what is missing, without recommends (docker-compose recommends a whole Docker engine).
install_tools() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    write_containers_conf
}

## The two settings without which no container starts on these machines: root may not raise nofile above
## 20000 or nproc above 32768 (podman asks for more), and crun refuses the host's hybrid cgroup layout.
write_containers_conf() {
    local file=/etc/containers/containers.conf.d/50-signing-proxy.conf
    local wanted
    wanted='# Written by signing-proxy deploy/lib.sh (make image).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
    if [ "$(cat "$file" 2>/dev/null)" != "$wanted" ]; then
        mkdir -p "$(dirname "$file")"
        printf '%s\n' "$wanted" >"$file"
        log "wrote $file"
    fi
}

## The commit the image is built from: IMAGE_COMMIT, else HEAD; never the working tree (uncommitted edits stay out).
source_commit() { git -C "$REPO_ROOT" rev-parse --verify "${IMAGE_COMMIT:-HEAD}^{commit}"; }

## A clean export of commit $2 in $1 (replaced): exactly the committed files.
export_commit() {
    local target="$1" commit="$2"
    rm -rf "$target"
    mkdir -p "$target"
    git -C "$REPO_ROOT" archive --format=tar "$commit" | tar -x -C "$target"
}

## What the last `make image` built: sets built_commit, built_digest, built_id, built_image, built_doubles.
read_last_build() {
    [ -f "$STATE_DIR/last-build" ] || return 1
    read -r built_commit built_digest built_id built_image built_doubles <"$STATE_DIR/last-build"
}

## debian:bookworm-slim: a minbase Debian 12 made with mmdebstrap, without docs and man pages as the official
## slim image, as a one-layer OCI image with fixed timestamps.
make_debian_base() {
    if podman image exists docker.io/library/debian:bookworm-slim; then
        return
    fi
    local dir="$STATE_DIR/base-debian"
    rm -rf "$dir"
    mkdir -p "$dir"
    log "making the debian:bookworm-slim stand-in (mmdebstrap, minbase)"
    SOURCE_DATE_EPOCH="$BASE_SOURCE_DATE_EPOCH" mmdebstrap --quiet --variant=minbase \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='Dir::Cache::pkgcache ""' --aptopt='Dir::Cache::srcpkgcache ""' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log' \
        bookworm "$dir/rootfs.tar" \
        "deb $DEBIAN_MIRROR bookworm main" \
        "deb $DEBIAN_MIRROR bookworm-updates main" \
        "deb $DEBIAN_SECURITY_MIRROR bookworm-security main"
    printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' >"$dir/Containerfile"
    buildah bud --quiet --timestamp 0 --format oci --pull=never \
        -t docker.io/library/debian:bookworm-slim -f "$dir/Containerfile" "$dir" >/dev/null
    rm -f "$dir/rootfs.tar"
}

## swift:6.3-bookworm: the official Swift image's apt packages (its bookworm Dockerfile's list) on the Debian stand-in, with the host
## toolchain bind-mounted read-only at build time (nothing of it lands in a layer). The paths the Dockerfile
## uses (`swift` on PATH, /usr/libexec/swift) point into that mount.
make_swift_base() {
    if podman image exists docker.io/library/swift:6.3-bookworm; then
        return
    fi
    [ -x "$SWIFT_TOOLCHAIN/usr/bin/swift" ] || die "no Swift toolchain at $SWIFT_TOOLCHAIN (SWIFT_TOOLCHAIN=...)"
    local dir="$STATE_DIR/base-swift"
    rm -rf "$dir"
    mkdir -p "$dir"
    log "making the swift:6.3-bookworm stand-in (apt dependencies of the official image; toolchain mounted at build time)"
    cat >"$dir/Containerfile" <<CONTAINERFILE
FROM docker.io/library/debian:bookworm-slim
RUN export DEBIAN_FRONTEND=noninteractive \\
    && apt-get -q update \\
    && apt-get -q install -y --no-install-recommends binutils-gold gcc libc6-dev libstdc++-12-dev libicu-dev \\
       libcurl4-openssl-dev libedit-dev libsqlite3-dev libncurses-dev libpython3-dev libxml2-dev pkg-config \\
       uuid-dev zlib1g-dev tzdata git ca-certificates \\
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \\
    && mkdir -p /usr/libexec && ln -s $SWIFT_TOOLCHAIN/usr/libexec/swift /usr/libexec/swift
ENV PATH=$SWIFT_TOOLCHAIN/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CONTAINERFILE
    buildah bud --quiet --timestamp 0 --format oci --pull=never \
        -t docker.io/library/swift:6.3-bookworm -f "$dir/Containerfile" "$dir" >/dev/null
}

## git configuration for the build container: GitHub URLs resolve to the local package mirror.
write_build_gitconfig() {
    local file="$STATE_DIR/gitconfig"
    mkdir -p "$STATE_DIR"
    printf '[url "%s/"]\n\tinsteadOf = https://github.com/\n' "$SWIFT_PACKAGE_MIRROR" >"$file"
    echo "$file"
}

## Builds the Dockerfile from a clean export of HEAD.
##   build_image <context dir> <tag> <extra podman build args...>
## OCI format with --timestamp 0: the digest depends only on the inputs (docs/DEPLOY.md, "Reproducible
## image"). The toolchain, package mirror and git configuration are read-only mounts, not layers.
build_image() {
    local context="$1" tag="$2"
    shift 2
    local mounts=(-v "$SWIFT_TOOLCHAIN:$SWIFT_TOOLCHAIN:ro")
    if [ -d "$SWIFT_PACKAGE_MIRROR" ]; then
        mounts+=(-v "$SWIFT_PACKAGE_MIRROR:$SWIFT_PACKAGE_MIRROR:ro" -v "$(write_build_gitconfig):/etc/gitconfig:ro")
    fi
    podman build --format oci --timestamp 0 --pull=never "${mounts[@]}" -t "$tag" "$@" "$context"
}

## Manifest digest and image id (config digest) of a local image.
image_digest() { podman image inspect --format '{{.Digest}}' "$1"; }
image_id() { echo "sha256:$(podman image inspect --format '{{.Id}}' "$1")"; }
