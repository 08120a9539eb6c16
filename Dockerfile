# crumb: one static binary (consent service, banner, scanner CLI).
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t crumb .
#   docker run -p 8080:8080 -e CRUMB_ADMIN_TOKEN=... crumb
#
# .git is not copied into the build (.dockerignore), so the version that
# `crumb version` and crumb_build_info report comes from VERSION; without
# it they say "(devel)".
#
# Without CRUMB_REDIS_URL the embedded store writes to /var/lib/crumb:
# mount a volume there to keep proofs of consent across containers.

# --- build -------------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/crumb ./cmd/crumb

# --- runtime -----------------------------------------------------------------
# Debian slim rather than distroless: scan workers (crumb worker, crumb
# serve --workers N) drive Debian's Chromium, installed here; it runs
# headless as the same non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates chromium fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/crumb --shell /usr/sbin/nologin crumb \
 && install -d -o crumb -g crumb -m 0700 /var/lib/crumb
COPY --from=build /out/crumb /usr/local/bin/crumb
COPY configs/crumb.yaml /etc/crumb/crumb.yaml
ENV CRUMB_ADDR=0.0.0.0:8080 \
    CRUMB_CONFIG=/etc/crumb/crumb.yaml \
    CRUMB_DATA_DIR=/var/lib/crumb \
    CRUMB_CHROMIUM=/usr/bin/chromium \
    CRUMB_CHROMIUM_FLAGS=--no-sandbox \
    CRUMB_LOG_FORMAT=json
# CRUMB_CHROMIUM_FLAGS=--no-sandbox: Chromium's own sandbox needs user
# namespaces, which Docker's default seccomp profile refuses to a non-root
# process, so without the flag every scan (crumb worker, crumb serve
# --workers N, crumb scan) fails to start Chromium. The container is then
# the boundary around the pages Chromium visits: it runs as the unprivileged
# user crumb with Docker's default capabilities and seccomp. To keep
# Chromium's sandbox instead, run the container with a seccomp profile that
# allows user namespaces (docker run --security-opt seccomp=PROFILE.json)
# and -e CRUMB_CHROMIUM_FLAGS= to drop the flag.
USER crumb
WORKDIR /var/lib/crumb
VOLUME /var/lib/crumb
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/crumb"]
CMD ["serve"]
