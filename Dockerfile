# syntax=docker/dockerfile:1
# pylon's image: build a static binary, ship only it, CA certificates and the default config.
# Runs as a non-root numeric user; listens on 8000 (map 80/443 to it in compose).

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --bin pylon \
 && mkdir -p /out/etc/pylon \
 && cp target/release/pylon /out/pylon \
 && cp conf/pylon.toml /out/etc/pylon/pylon.toml

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/pylon /usr/local/bin/pylon
COPY --from=build /out/etc/pylon /etc/pylon
USER 65532:65532
EXPOSE 8000
ENV PYLON_CONFIG=/etc/pylon/pylon.toml
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/usr/local/bin/pylon", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pylon"]
