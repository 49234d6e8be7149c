#!/usr/bin/env bash
# `make image`: build the signing-proxy image (and the test doubles image) from a clean export of HEAD (or
# IMAGE_COMMIT) with
# podman, on locally made base-image stand-ins. Prints the image's digest and id, size and build time.
#   IMAGE_NO_CACHE=1  rebuild every layer (as image-repro does)
source "$(dirname "$0")/lib.sh"
require_root image
start=$(date +%s)
install_tools
make_debian_base
make_swift_base
bases_done=$(date +%s)

commit="$(source_commit)"
tag="${commit:0:12}"
context="$STATE_DIR/context"
export_commit "$context" "$commit"
cache_args=()
[ "${IMAGE_NO_CACHE:-0}" = 1 ] && cache_args+=(--no-cache)

log "building $IMAGE_NAME:$tag from commit $commit"
build_image "$context" "$IMAGE_NAME:$tag" --build-arg BUILD_TEST_DOUBLES=1 "${cache_args[@]}" 2>&1 | tee "$STATE_DIR/build.log" >&2
podman tag "$IMAGE_NAME:$tag" "$IMAGE_NAME:latest"
image_done=$(date +%s)
# The doubles come from the build stage's cached layers (built with BUILD_TEST_DOUBLES=1 above).
log "building $DOUBLES_NAME:$tag (--target test-doubles)"
build_image "$context" "$DOUBLES_NAME:$tag" --build-arg BUILD_TEST_DOUBLES=1 --target test-doubles 2>&1 | tee "$STATE_DIR/build-doubles.log" >&2
podman tag "$DOUBLES_NAME:$tag" "$DOUBLES_NAME:latest"
end=$(date +%s)

digest="$(image_digest "$IMAGE_NAME:$tag")"
id="$(image_id "$IMAGE_NAME:$tag")"
size="$(podman image inspect --format '{{.Size}}' "$IMAGE_NAME:$tag")"
printf '%s %s %s %s %s\n' "$commit" "$digest" "$id" "$IMAGE_NAME:$tag" "$DOUBLES_NAME:$tag" >"$STATE_DIR/last-build"
cat <<REPORT
image:        $IMAGE_NAME:$tag (commit $commit)
digest:       $digest   (manifest, OCI)
image id:     $id   (config digest; a registry keeps it on push)
size:         $((size / 1000000)) MB ($size bytes)
time:         base images $((bases_done - start)) s, image $((image_done - bases_done)) s, test doubles $((end - image_done)) s, total $((end - start)) s
REPORT
