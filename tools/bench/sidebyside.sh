#!/usr/bin/env bash
# Side-by-side callback throughput: a bare silenceper echo server, unionbot on
# its embedded backends, and unionbot on MariaDB + Redis, under the same load
# generator, interleaved round by round so that machine noise hits all three
# alike. Figures go to BENCHMARKS.md.
#
#   bash tools/bench/sidebyside.sh [ROUNDS=3] [SECONDS=15] [CONCURRENCY=32]
#
# Needs MariaDB on 127.0.0.1:3306 (root, no password) and Redis on 6379, as
# the test script sets them up.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3} secs=${2:-15} conc=${3:-32}
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/unionbot" . && go build -o "$bin/loadgen" ./tools/loadgen && go build -o "$bin/wxecho" ./tools/wxecho

mysql --protocol=tcp -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS unionbot_bench; CREATE DATABASE unionbot_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
key=$(head -c 32 /dev/urandom | base64)
redis-cli -n 0 --scan --pattern 'ubbench:*' | xargs -r redis-cli del >/dev/null

"$bin/wxecho" -addr 127.0.0.1:18090 2>/dev/null &
UNIONBOT_ADDR=127.0.0.1:18091 UNIONBOT_LOG_LEVEL=error UNIONBOT_DATA_DIR="$bin/data" UNIONBOT_METRICS_ADDR=off "$bin/unionbot" &
UNIONBOT_ADDR=127.0.0.1:18092 UNIONBOT_LOG_LEVEL=error UNIONBOT_DATA_DIR="$bin/data2" UNIONBOT_METRICS_ADDR=off \
	UNIONBOT_MYSQL_DSN='root@tcp(127.0.0.1:3306)/unionbot_bench?parseTime=true' UNIONBOT_SECRET_KEY="$key" \
	UNIONBOT_REDIS_ADDR=127.0.0.1:6379 UNIONBOT_REDIS_PREFIX=ubbench: "$bin/unionbot" &
for port in 18090 18091 18092; do
	for _ in $(seq 60); do curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" -m 1 && break
		curl -s -o /dev/null "http://127.0.0.1:$port/wechat" -m 1 && break; sleep 1; done
done

for r in $(seq "$rounds"); do
	for target in echo:18090 embedded:18091 mariadb+redis:18092; do
		name=${target%%:*} port=${target##*:}
		out=$("$bin/loadgen" -url "http://127.0.0.1:$port" -duration "${secs}s" -concurrency "$conc" | tr '\n' ' ')
		printf 'round %s %-14s %s\n' "$r" "$name" "$out"
	done
done
