#!/usr/bin/env bash
# Peak memory of the embedded mode under flat-out signed traffic: starts
# unionbot on its embedded backends, drives it with the load generator for
# DURATION, samples its RSS every 5 s and prints the peak (VmHWM).
#
#   bash tools/bench/rss.sh [DURATION=10m] [CONCURRENCY=32]
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-10m} conc=${2:-32}
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
go build -o "$bin/unionbot" . && go build -o "$bin/loadgen" ./tools/loadgen
UNIONBOT_ADDR=127.0.0.1:18093 UNIONBOT_LOG_LEVEL=error UNIONBOT_DATA_DIR="$bin/data" UNIONBOT_METRICS_ADDR=off "$bin/unionbot" &
pid=$!
for _ in $(seq 60); do curl -fs -o /dev/null http://127.0.0.1:18093/healthz -m 1 && break; sleep 1; done
(
	while kill -0 "$pid" 2>/dev/null; do
		printf '%s %s\n' "$(date +%T)" "$(grep -E 'VmRSS' /proc/$pid/status | awk '{print $2/1024 " MB"}')"
		sleep 5
	done
) > "$bin/rss.log" &
"$bin/loadgen" -url http://127.0.0.1:18093 -duration "$dur" -concurrency "$conc" || true
echo "RSS samples (every 5 s):"; awk 'NR%12==1' "$bin/rss.log"
echo "peak RSS (VmHWM): $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MB"}')"
