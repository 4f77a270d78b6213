# asgid in a container (docs/deploying.md, "In a container"). Build and run the demo app:
#   docker build -t asgid .
#   docker run --rm -p 8000:8000 asgid
# With podman: `podman build --format docker -t asgid .` (the OCI format drops HEALTHCHECK).
# Serve your own app: mount it and a configuration that names it, e.g.
#   docker run -v ./app.so:/app/app.so:ro -v ./asgid.ini:/etc/asgid/asgid.ini:ro asgid \
#     asgid -c /etc/asgid/asgid.ini
# A Python app gets an image of its own built FROM this one: examples/container/.
# scripts/test-image.sh builds both with podman in CI and runs tests/image/ against them.
#
# Debian 13 ships llhttp 9.2.1 (the oldest release asgid accepts), so no extra apt source is
# needed here, unlike on Debian 12.

# The Debian 13 image both stages start from. CI builds without a registry, from a local image
# of the same Debian release: --build-arg DEBIAN_IMAGE=... (scripts/test-image.sh).
ARG DEBIAN_IMAGE=debian:trixie-slim

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# The same setup script and the same cmake commands as README.md's "Building by hand":
# tests/integration/test_service_files.py fails when the two drift apart. The setup script is
# copied alone first, so that its layer (the build packages) is reused until it changes; the
# sources come after it. The unit tests run here, so a broken build never becomes an image.
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh --build-only
COPY . .
RUN cmake -S . -B build -DASGID_WERROR=ON \
 && cmake --build build -j"$(nproc)" \
 && ctest --test-dir build --output-on-failure

FROM ${DEBIAN_IMAGE}
# Only what runs: the shared libraries asgid links against, by their Debian 13 names
# (libuv1t64 is libuv1 after Debian's 64-bit time_t transition, libssl3t64 holds libcrypto for
# the WebSocket handshake; zlib1g serves permessage-deflate and, with libexpat1, the embedded
# CPython's built-in modules; libpython3.13: Debian 13's static libpython cannot be linked in
# whole, its _sha2 module needs objects the package does not ship, so cmake falls back to the
# shared library there and says so), and python3: the standard library, and the interpreter
# asgid names as sys.executable.
# tests/integration/test_service_files.py checks the list against the libraries the binary
# needs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libuv1t64 libinih1 libllhttp9.2 libssl3t64 zlib1g libexpat1 libpython3.13 python3 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
# A fixed uid and gid, so that a Kubernetes securityContext can name them
# (deploy/kubernetes/deployment.yaml: runAsUser, runAsGroup).
RUN groupadd --system --gid 10001 asgid \
 && useradd --system --uid 10001 --gid asgid --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin asgid
COPY --from=build /src/build/asgid /usr/local/bin/asgid
COPY --from=build /src/build/examples/hello.so /usr/local/lib/asgid/hello.so
# Every setting commented out: the image's defaults come from the command line below.
COPY conf/asgid.ini /etc/asgid/asgid.ini
# Mount point for an app (a native app .so, its configuration next to it).
RUN mkdir /app
WORKDIR /app
USER asgid
# The metrics listener (/metrics, /healthz, /readyz), on whatever command runs, for the
# HEALTHCHECK; off outside the image (metrics_bind = ""). On loopback: it has no
# authentication, and an image built FROM this one or run with -P must not publish it. Where
# Prometheus or Kubernetes' probes should reach it, set ASGID_METRICS_BIND=0.0.0.0:9000
# (deploy/kubernetes/deployment.yaml does).
ENV ASGID_METRICS_BIND=127.0.0.1:9000
EXPOSE 8000
# TERM is asgid's graceful stop: in-flight requests get graceful_timeout (30 s) to finish.
# Give the container a longer grace period (docker stop -t 40, terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Healthy when every worker is ready: /readyz of the metrics listener (docs/deploying.md), asked
# with bash's /dev/tcp (no curl in the image). It answers 503 while workers start and from the
# start of a graceful stop.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9000 && printf 'GET /readyz HTTP/1.1\\r\\nHost: healthcheck\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q '^HTTP/1.1 200'"]
CMD ["asgid", "-c", "/etc/asgid/asgid.ini", "--app", "/usr/local/lib/asgid/hello.so", "--bind", "0.0.0.0:8000"]
