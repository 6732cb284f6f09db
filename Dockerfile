# model-catalog container image: catalog-server (the entrypoint), with hub-emulator and
# catalogctl beside it for demos and debugging.
#
#   scripts/ci/image.sh                    builds it with buildah (no Docker engine) and checks it
#   docker build -t model-catalog .        the same where a Docker engine is available
#                                          (BuildKit, the default since Docker 23: RUN --mount)
#   docker run -p 50051:50051 -e OXEN_API_KEY model-catalog
#
# Every catalog-server flag can be set as MODEL_CATALOG_<FLAG> in the environment (the
# Helm chart does so); the hub key comes from OXEN_API_KEY or --hub_api_key_file.

ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
# Build stage: the toolchain and -dev packages, a Release build of the binaries.
FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
# The package list alone first: its layer stays cached while the sources change.
COPY scripts/install-deps.sh /usr/local/share/model-catalog/install-deps.sh
RUN /usr/local/share/model-catalog/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
# Parallel compile jobs; the CI machine has 2 cores.
ARG BUILD_JOBS=2
# A digest of the sources (scripts/ci/image.sh passes one): a builder that does not look
# into bind mounts to decide whether a cached step still holds reruns the build when it
# changes.
ARG SOURCE_DIGEST=none
# The sources are bind-mounted and the build tree lives in a cache mount, so that no layer
# holds either and a rebuild on the same machine compiles only what changed. Only the
# stripped binaries in /out stay in this stage.
RUN --mount=type=bind,target=/src \
    --mount=type=cache,target=/build,id=model-catalog-release-build \
    echo "sources: ${SOURCE_DIGEST}" \
 && cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMODEL_CATALOG_BUILD_TESTS=OFF \
 && cmake --build /build -j "${BUILD_JOBS}" --target catalog-server hub-emulator catalogctl \
 && install -d /out \
 && install -s -m 0755 /build/bin/catalog-server /build/bin/hub-emulator /build/bin/catalogctl /out/

# ---------------------------------------------------------------------------
# Runtime stage: the three binaries, the shared libraries they link, CA certificates.
FROM ${DEBIAN_IMAGE} AS runtime
# The shared libraries come from Debian's runtime packages, installed by name, rather
# than from files copied out of the build stage by `ldd`: dpkg then resolves their own
# dependencies, including the ones loaded at run time that `ldd` cannot see (libcurl's
# TLS, Kerberos and LDAP back ends, gconv modules), and a rebuild picks up Debian's
# security updates. These are the runtime halves of the -dev packages the build stage
# links against (scripts/install-deps.sh --build). scripts/ci/image.sh fails when a
# binary in this stage has a library `ldd` reports "not found".
# ca-certificates: the hub is reached over HTTPS.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libgrpc++1.51 libprotobuf32 libabsl20220623 libcurl4 libcpp-httplib0.11 libutf8proc2 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 65532 catalog \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /var/lib/model-catalog \
      --shell /usr/sbin/nologin catalog \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/model-catalog
COPY --from=build /out/ /usr/local/bin/

# The default directory for --snapshot_path; the Helm chart mounts a volume here.
WORKDIR /var/lib/model-catalog
ENV LANG=C.UTF-8
# Numeric, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
# 50051: gRPC (catalog, health, reflection). 8080: the JSON view (GET /v1/models), with
# the gRPC port's TLS and tokens. 9090: Prometheus /metrics and the /healthz probe.
EXPOSE 50051 8080 9090
# catalog-server exits 0 on SIGTERM after --shutdown_grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/catalog-server"]

LABEL org.opencontainers.image.title="model-catalog" \
      org.opencontainers.image.description="gRPC service serving the AI hub's model catalog" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
