# syntax=docker/dockerfile:1
# Build: a static, cgo-free binary (the embedded database is pure Go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/unionbot .

# Run: CA certificates for api.weixin.qq.com, tzdata for Asia/Shanghai dates,
# a non-root user and a data volume for the embedded database and local keys.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 unionbot \
    && useradd --system --uid 10001 --gid unionbot --home-dir /data --shell /usr/sbin/nologin unionbot \
    && mkdir -p /data && chown unionbot:unionbot /data
COPY --from=build /out/unionbot /usr/local/bin/unionbot
USER unionbot:unionbot
ENV UNIONBOT_ADDR=:8080 UNIONBOT_DATA_DIR=/data TZ=Asia/Shanghai
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["unionbot", "healthcheck"]
ENTRYPOINT ["unionbot"]
CMD ["serve"]
