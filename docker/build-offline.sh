#!/usr/bin/env bash
# Builds the image p2pnode:latest without pulling anything from a registry.
#
#   docker/build-offline.sh            # -> p2pnode:latest
#   P2PNODE_IMAGE=p2pnode:dev docker/build-offline.sh
#
# How: cargo builds a statically linked p2pnode on this host (glibc linked in
# with crt-static; TCP, QUIC and DNS all work from an empty filesystem), then
# `docker build` runs docker/Dockerfile.offline, FROM scratch, in a tiny
# context holding only that binary and an empty data directory. The result
# has the same layout as the top-level multi-stage Dockerfile's runtime stage
# (checked below), which stays the normal path for users with a registry.
#
# Needs: cargo (the project's toolchain) and a Docker engine. Environment:
#   P2PNODE_IMAGE               image tag (default p2pnode:latest)
#   P2PNODE_DOCKER_TARGET_DIR   cargo target dir for the static build
#                               (default target/docker, apart from the debug
#                               build so the two never rebuild each other)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
image="${P2PNODE_IMAGE:-p2pnode:latest}"
log() { printf '[build-offline] %s\n' "$*" >&2; }

# 1. The two runtime stages must not drift apart.
runtime_stage() { sed -n '/^FROM scratch AS runtime/,$p' "$1"; }
if ! diff -u \
    <(runtime_stage "$repo/Dockerfile" | sed -e 's#--from=builder ##' -e 's#/out/##g') \
    <(runtime_stage "$repo/docker/Dockerfile.offline") >&2; then
    log "error: the runtime stages of Dockerfile and docker/Dockerfile.offline differ (diff above)"
    exit 1
fi

# 2. A static binary for this host's architecture.
triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${P2PNODE_DOCKER_TARGET_DIR:-$repo/target/docker}"
log "cargo build --release --locked --target $triple (static, into $CARGO_TARGET_DIR)"
(cd "$repo" && RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target "$triple" --bin p2pnode)
binary="$CARGO_TARGET_DIR/$triple/release/p2pnode"
# A scratch image has no dynamic loader: refuse a binary that needs one.
if readelf -l "$binary" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    log "error: $binary is dynamically linked; it cannot run FROM scratch"
    exit 1
fi

# 3. The build context: the binary and an empty, owner-only data directory.
context="$(mktemp -d "${TMPDIR:-/tmp}/p2pnode-image.XXXXXX")"
trap 'rm -rf "$context"' EXIT
cp "$binary" "$context/p2pnode"
chmod 0755 "$context/p2pnode"
mkdir -p "$context/rootfs"
mkdir -m 0700 "$context/rootfs/data"
cp "$repo/docker/Dockerfile.offline" "$context/Dockerfile"

revision="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
previous="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
log "docker build -t $image (FROM scratch, revision $revision)"
docker build --quiet -t "$image" \
    --label "org.opencontainers.image.title=p2pnode" \
    --label "org.opencontainers.image.revision=$revision" \
    "$context" >/dev/null
# The image this tag pointed to before is now untagged: remove it, unless a
# container still uses it (then `docker image rm` refuses, which is fine).
current="$(docker image inspect --format '{{.Id}}' "$image")"
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
fi

# 4. Smoke test: the binary starts inside the image.
docker run --rm --network none "$image" --version >&2
docker image ls "$image" >&2
