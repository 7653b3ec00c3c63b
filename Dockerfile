# syntax=docker/dockerfile:1
# Build with the same install script as CI, then keep only ringwatch and its runtime libraries.
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN ./scripts/install-deps.sh
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build --target ringwatch \
 && strip build/ringwatch

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libprometheus-cpp-core1.0 libcivetweb1 libyaml-cpp0.7 libspdlog1.10 libfmt9 libprotobuf32 \
      libsnappy1v5 libssl3 libcrypt1 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10946 --no-create-home --shell /usr/sbin/nologin ringwatch
COPY --from=build /src/build/ringwatch /usr/local/bin/ringwatch
COPY config/ringwatch.yaml /etc/ringwatch/ringwatch.yaml
USER ringwatch
# memberlist gossip (dskit: TCP only; plain memberlist: UDP too) and the HTTP endpoints.
EXPOSE 7946/tcp 7946/udp 10946/tcp
HEALTHCHECK --interval=30s --timeout=5s CMD ["curl", "-fsS", "http://127.0.0.1:10946/-/healthy"]
ENTRYPOINT ["/usr/local/bin/ringwatch"]
CMD ["-config.file=/etc/ringwatch/ringwatch.yaml"]
