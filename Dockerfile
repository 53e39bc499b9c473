# syntax=docker/dockerfile:1
# gemmapod-signal in a container: the standalone executable on a distroless base.
#   docker build -t gemmapod-signal .
#   docker run -p 8080:8080 -v gemmapod-data:/data gemmapod-signal
ARG BUN_VERSION=1.4.5

# Runs on the builder's own platform and cross-compiles for the image's, so a
# multi-arch build needs no emulation.
FROM --platform=$BUILDPLATFORM oven/bun:${BUN_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY src ./src
COPY scripts/compile.ts ./scripts/compile.ts
RUN case "$TARGETARCH" in \
      amd64) target=bun-linux-x64 ;; \
      arm64) target=bun-linux-arm64 ;; \
      *) echo "unsupported TARGETARCH '$TARGETARCH'" >&2; exit 1 ;; \
    esac \
 && bun scripts/compile.ts --target "$target" --outfile /out/gemmapod-signal \
 && mkdir -p /out/data

# glibc and CA certificates, no shell, no package manager; uid 65532 is "nonroot".
FROM gcr.io/distroless/base-debian12:nonroot AS runtime
COPY --from=build /out/gemmapod-signal /usr/local/bin/gemmapod-signal
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
# Probes where PORT/HOST make the server listen; set those rather than --port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/gemmapod-signal", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gemmapod-signal"]
CMD ["--registry", "sqlite", "--data-dir", "/data"]
