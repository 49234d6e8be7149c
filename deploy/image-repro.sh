#!/usr/bin/env bash
# `make image-repro`: build the commit of the last `make image` again, from scratch (--no-cache) and as a verifier
# would (`podman build .` with no build arguments), and fail unless digest and image id equal make image's. Without
# a previous build (or with IMAGE_COMMIT naming another commit) it builds that commit twice. Same base images (the
# local stand-ins). About one release build of CPU per build.
source "$(dirname "$0")/lib.sh"
require_root image-repro
install_tools
make_debian_base
make_swift_base

reference_digest="" reference_id=""
if [ -z "${IMAGE_COMMIT:-}" ] && read_last_build && podman image exists "$built_image"; then
    commit="$built_commit"
    reference_digest="$built_digest" reference_id="$built_id"
    log "rebuilding $commit, the commit of the last make image ($built_image)"
else
    commit="$(source_commit)"
fi
tag="${commit:0:12}"
context="$STATE_DIR/context-repro"
export_commit "$context" "$commit"

build_from_scratch() {
    local target="$1" began
    began=$(date +%s)
    log "building $target from scratch (--no-cache, no build arguments)"
    build_image "$context" "$target" --no-cache >"$STATE_DIR/repro-build.log" 2>&1 \
        || die "build failed: $(tail -20 "$STATE_DIR/repro-build.log")"
    log "built in $(($(date +%s) - began)) s"
}

if [ -z "$reference_digest" ]; then
    build_from_scratch "$IMAGE_NAME:$tag-repro1"
    reference_digest="$(image_digest "$IMAGE_NAME:$tag-repro1")" reference_id="$(image_id "$IMAGE_NAME:$tag-repro1")"
    podman untag "$IMAGE_NAME:$tag-repro1" >/dev/null
fi
build_from_scratch "$IMAGE_NAME:$tag-repro"
digest="$(image_digest "$IMAGE_NAME:$tag-repro")"
id="$(image_id "$IMAGE_NAME:$tag-repro")"
podman untag "$IMAGE_NAME:$tag-repro" >/dev/null

printf 'first:  digest %s  image id %s\nsecond: digest %s  image id %s\n' "$reference_digest" "$reference_id" "$digest" "$id"
if [ "$digest" = "$reference_digest" ] && [ "$id" = "$reference_id" ]; then
    log "reproducible: two builds of $commit give the same digest and image id"
else
    die "not reproducible: the two builds of $commit differ"
fi
