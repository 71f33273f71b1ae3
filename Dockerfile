# lintel in a container: a thin layer over the Debian package that `make deb` builds and
# tests/ops/package.sh checks (docs/operations.md "Container").
#   docker build -t lintel .
#   docker run -p 8080:8080 -v lintel-data:/data lintel
# Stage 1 builds the .deb on Debian 12; stage 2 installs only it on debian:12-slim.
FROM debian:12-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/debian-packages.txt scripts/web-packages.txt scripts/
# Build dependencies and npm for the pinned web assets (no chromium: no tests run here).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      $(grep -hv '^#' scripts/debian-packages.txt) nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build-* \
 && cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DLINTEL_TESTS=OFF -DLINTEL_PACKAGE_FILES=ON \
 && cmake --build build-deb -j"$(nproc)" \
 && cd build-deb && cpack -G DEB && cp lintel_*.deb /lintel.deb

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /lintel.deb /tmp/lintel.deb
# The package's postinst creates the `lintel` system user; no systemd runs here, so it starts
# nothing.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends /tmp/lintel.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/lintel.deb \
 && mkdir -p /data && chown lintel:lintel /data && chmod 0750 /data
# All addresses inside the container (publish with -p); data on the volume.
ENV LINTEL_BIND=0.0.0.0 \
    LINTEL_PORT=8080 \
    LINTEL_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER lintel
WORKDIR /data
# Slim images have no curl: the binary asks its own /health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["lintel", "--config", "/etc/lintel/lintel.json", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["lintel", "--config", "/etc/lintel/lintel.json"]
CMD ["serve"]
