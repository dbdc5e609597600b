# The wormlab image: one static binary on an empty base, run as a non-root
# user. Build it from the repository's root:
#
#   docker build --build-arg VERSION=v0.1.0 --build-arg COMMIT=$(git rev-parse HEAD) -t wormlab:v0.1.0 .
#
# scripts/docker-steps runs the build stage's steps without a container
# engine, as CI does (see docs/PERFORMANCE.md, "Container").

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a change of source reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v0.1.0-dev
ARG COMMIT=unknown
# CGO off gives a static binary, which an empty base can run; -trimpath
# keeps the build machine's paths out of it.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/wormlab/wormlab/internal/version.Version=${VERSION} -X github.com/wormlab/wormlab/internal/version.commit=${COMMIT}" \
      -o /out/wormlab ./cmd/wormlab \
 && /out/wormlab version \
 && mkdir -p /out/work

FROM scratch
COPY --from=build /out/wormlab /usr/local/bin/wormlab
# A writable working directory owned by the user, for outputs when no
# volume is mounted.
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/wormlab"]
CMD ["--help"]
