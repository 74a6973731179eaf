#!/usr/bin/env bash
# Redis memory per message: unionbot on MariaDB + a private Redis, driven by
# the load generator for SECONDS; Redis's used_memory and key count are read
# before, right after (replies still kept for WeChat's retries) and after the
# 30 s reply retention (delivery markers only, until the timestamp window
# closes), and divided by the messages sent.
#
#   bash tools/bench/redismem.sh [SECONDS=10] [CONCURRENCY=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10} conc=${2:-32} port=6391
bin=$(mktemp -d)
trap 'redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/unionbot" . && go build -o "$bin/loadgen" ./tools/loadgen
redis-server --port $port --save "" --appendonly no --daemonize yes --dir "$bin" --logfile "$bin/redis.log"
for _ in $(seq 30); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
mysql --protocol=tcp -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS unionbot_redismem; CREATE DATABASE unionbot_redismem CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
UNIONBOT_ADDR=127.0.0.1:18094 UNIONBOT_LOG_LEVEL=error UNIONBOT_METRICS_ADDR=off UNIONBOT_DATA_DIR="$bin/data" \
	UNIONBOT_MYSQL_DSN='root@tcp(127.0.0.1:3306)/unionbot_redismem?parseTime=true' \
	UNIONBOT_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" UNIONBOT_REDIS_ADDR=127.0.0.1:$port "$bin/unionbot" &
for _ in $(seq 60); do curl -fs -o /dev/null http://127.0.0.1:18094/healthz -m 1 && break; sleep 1; done
mem() { redis-cli -p $port info memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r'; }
keys() { redis-cli -p $port dbsize | tr -d '\r'; }
m0=$(mem) k0=$(keys)
out=$("$bin/loadgen" -url http://127.0.0.1:18094 -duration "${secs}s" -concurrency "$conc")
n=$(echo "$out" | awk -F'ok=' '/requests=/{split($2,a," "); print a[1]}')
m1=$(mem) k1=$(keys)
sleep 35
m2=$(mem) k2=$(keys)
echo "$out"
echo "messages: $n"
echo "right after: used_memory +$(( (m1-m0)/1024 )) KiB, keys +$((k1-k0)) → $(( (m1-m0)/n )) B per message"
echo "after 35 s:  used_memory +$(( (m2-m0)/1024 )) KiB, keys +$((k2-k0)) → $(( (m2-m0)/n )) B per message (markers, sessions, last-seen)"
