# pylon's image: a static binary, CA certificates and the default config on `scratch` — no shell,
# no package manager, no compiler. Runs as a non-root numeric user and listens on 8000/8443
# (publish 80/443 onto them: no capability needed); `pylon healthcheck` calls /ping.
#
# Build (BuildKit, which skips stages the target does not use):
#   DOCKER_BUILDKIT=1 docker build -t pylon .
# Runtime stage only, from a binary built on the host (how the tests build it, offline):
#   RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1 \
#     cargo build --release --locked --target x86_64-unknown-linux-gnu --bin pylon
#   then an image holding /out (see tests/image.rs) passed as --build-arg ARTIFACTS=<image>.

ARG ARTIFACTS=build

FROM rust:1-bookworm AS build
# Build-time tools from Debian stable (nothing of them reaches the image): versions not pinned;
# protoc and protobuf's .proto files compile the etcd client's gRPC API.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake pkg-config libssl-dev ca-certificates protobuf-compiler libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV RUSTFLAGS="-C target-feature=+crt-static" OPENSSL_STATIC=1
# --locked: exactly the dependency versions of Cargo.lock, or the build fails.
RUN cargo build --release --locked --target x86_64-unknown-linux-gnu --bin pylon \
 && mkdir -p /out/etc/pylon /out/etc/ssl/certs /runtime/user \
 && cp target/x86_64-unknown-linux-gnu/release/pylon /out/pylon \
 && strip /out/pylon \
 && cp conf/container.toml /out/etc/pylon/pylon.toml \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

# The files the runtime stage takes: from the build stage, or from an image given as ARTIFACTS.
FROM ${ARTIFACTS} AS artifacts

FROM scratch AS runtime
COPY --from=artifacts /out/ /
# The user's runtime directory: pylon makes its private run directory (upgrade socket, pid
# file) in it; a scratch image has no /tmp to fall back on.
COPY --from=artifacts --chown=65532:65532 /runtime/ /run/
ENV XDG_RUNTIME_DIR=/run/user
USER 65532:65532
EXPOSE 8000 8443
ENV PYLON_CONFIG=/etc/pylon/pylon.toml
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/pylon", "healthcheck"]
ENTRYPOINT ["/pylon"]
CMD ["run"]
