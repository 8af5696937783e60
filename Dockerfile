# p2pnode container image: the normal build, for machines that can pull
# base images from a registry.
#
#   docker build -t p2pnode:latest .
#
# Stage 1 ("builder") compiles a statically linked p2pnode with the official
# Rust image. Stage 2 ("runtime") is FROM scratch: the binary, an empty data
# directory and nothing else (no shell, no libc, no package manager), about
# 18 MB in all.
#
# Without a registry (CI, air-gapped hosts) use docker/build-offline.sh: it
# builds the same binary on the host and feeds it to docker/Dockerfile.offline,
# whose runtime stage is this file's runtime stage line for line (the script
# checks that they have not drifted apart).

# ---------------------------------------------------------------- builder ---
ARG RUST_IMAGE=rust:1-bookworm
FROM ${RUST_IMAGE} AS builder
# The git commit for `--version` (.git is not copied in):
# docker build --build-arg P2PNODE_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG P2PNODE_COMMIT=unknown
WORKDIR /src
# The whole source tree minus what .dockerignore leaves out (target/, .git).
COPY . .
# crt-static links glibc statically, so the binary runs on an empty (scratch)
# filesystem. Name resolution does not need glibc's NSS: libp2p's DNS
# transport reads /etc/resolv.conf and /etc/hosts itself (Docker provides
# both). --locked: build exactly the dependency versions in Cargo.lock.
RUN set -eux; \
    target="$(rustc -vV | sed -n 's/^host: //p')"; \
    RUSTFLAGS="-C target-feature=+crt-static" P2PNODE_COMMIT="$P2PNODE_COMMIT" \
        cargo build --release --locked --target "$target"; \
    mkdir -p /out/rootfs/data; \
    chmod 0700 /out/rootfs/data; \
    cp "target/$target/release/p2pnode" /out/p2pnode

# ---------------------------------------------------------------- runtime ---
# From FROM to the end of the file, docker/Dockerfile.offline repeats this
# stage with "--from=builder " and "/out/" dropped (build-offline.sh checks).
FROM scratch AS runtime
# The binary, root-owned and read-only for the node's user. In PATH, so
# `docker exec <container> p2pnode ctl get greeting` works.
COPY --from=builder /out/p2pnode /usr/local/bin/p2pnode
# The data directory (identity key, records, control socket), owned by the
# unprivileged user. A named volume mounted here starts as a copy of it,
# ownership included.
COPY --chown=10001:10001 --from=builder /out/rootfs/ /
# A numeric user: a scratch image has no /etc/passwd to look a name up in.
USER 10001:10001
# Keep state in /data. Whether the node reads commands depends on its stdin:
# `docker run -it` gives a terminal and a prompt, `docker run -i` a pipe read
# as a script, and `docker run -d`, compose and Kubernetes give /dev/null:
# the node serves without reading (`p2pnode ctl` talks to it);
# P2PNODE_NO_REPL=true|false forces it. RUST_LOG is left unset: logs go to
# stderr at info (`docker logs`), or, on a terminal, p2pnode's own above the
# prompt.
ENV P2PNODE_DATA_DIR=/data
# Identity and records survive the container being re-created when a volume
# is mounted here (docker run -v NAME:/data ...).
VOLUME ["/data"]
# libp2p over TCP and over QUIC (UDP), both on port 4001.
EXPOSE 4001/tcp 4001/udp
# Healthy means the node can do its job (`ctl health`): its event loop
# answers within 2 s, it has a peer when it has peers to join through (after
# --health-grace, 60 s; a wrong swarm key shows here), and its record store
# takes writes (a full disk shows here). Exec form: no shell in this image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/p2pnode", "ctl", "--timeout", "4s", "health"]
# `docker run p2pnode` runs a node: it creates a new network, or joins one
# when P2P_REMOTE_HOST (or --bootstrap) names a peer, e.g.
# `docker run -e P2P_REMOTE_HOST=node1 p2pnode`. Arguments after the image
# name are p2pnode's: `docker run p2pnode --json`, `... p2pnode ctl id`.
ENTRYPOINT ["/usr/local/bin/p2pnode"]
