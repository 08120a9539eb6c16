# crumb: one static binary (consent service, banner, scanner CLI).
#
#   docker build -t crumb .
#   docker run -p 8080:8080 -e CRUMB_ADMIN_TOKEN=... crumb
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
    CRUMB_LOG_FORMAT=json
USER crumb
WORKDIR /var/lib/crumb
VOLUME /var/lib/crumb
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/crumb"]
CMD ["serve"]
