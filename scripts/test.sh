#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
# It makes sure MariaDB (127.0.0.1:3306) and Redis (127.0.0.1:6379) are up —
# starting them if stopped and installing them with apt-get if missing — and
# Chromium with a Chinese font (fonts-noto-cjk) for the browser tests, then
# runs gofmt, go vet and every test with the integration tests on. It fails
# loudly when a service cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306 REDIS_PORT=6379
export UNIONBOT_TEST_MYSQL_DSN="${UNIONBOT_TEST_MYSQL_DSN:-root@tcp(${MYSQL_HOST}:${MYSQL_PORT})/}"
export UNIONBOT_TEST_REDIS_ADDR="${UNIONBOT_TEST_REDIS_ADDR:-127.0.0.1:${REDIS_PORT}}"
# A real three-node Redis Cluster (no replicas) for the kv contract and the
# round-trip count: its own ports and a scratch directory.
CLUSTER_PORTS="7101 7102 7103" CLUSTER_DIR=/tmp/unionbot-redis-cluster
export UNIONBOT_TEST_REDIS_CLUSTER="${UNIONBOT_TEST_REDIS_CLUSTER:-127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103}"

log() { printf '==> %s\n' "$*"; }
die() { printf 'FATAL: %s\n' "$*" >&2; exit 1; }

apt_updated=0
apt_install() {
	command -v apt-get >/dev/null || die "apt-get not available to install $*"
	if [ "$apt_updated" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

wait_for() { # wait_for SECONDS CMD...
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
	return 1
}

mysql_ping() { mysqladmin --protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot ping; }
ensure_mariadb() {
	if mysql_ping >/dev/null 2>&1; then return; fi
	if ! [ -x /usr/sbin/mariadbd ]; then
		log "installing mariadb-server"
		apt_install mariadb-server mariadb-client
	fi
	log "starting MariaDB"
	mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
		|| die "could not start MariaDB"
	wait_for 60 mysql_ping || die "MariaDB is not answering on ${MYSQL_HOST}:${MYSQL_PORT}"
}

redis_ping() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
ensure_redis() {
	if command -v redis-cli >/dev/null && redis_ping; then return; fi
	if ! command -v redis-server >/dev/null; then
		log "installing redis-server"
		apt_install redis-server
	fi
	log "starting Redis"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/ci.log || die "could not start Redis"
	wait_for 30 redis_ping || die "Redis is not answering on 127.0.0.1:${REDIS_PORT}"
}

has_cjk_font() { # grep reads to the end: no SIGPIPE to trip pipefail
	fc-list :lang=zh family 2>/dev/null | grep . >/dev/null \
		|| dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep 'ok installed' >/dev/null
}
# The cluster is reused when it is already up (a re-run costs nothing), its
# missing nodes are started, and a cluster that is not ok is reset and created
# again: these ports hold nothing but test data.
cluster_each() { # cluster_each CMD...: run redis-cli CMD on every node
	local p
	for p in $CLUSTER_PORTS; do redis-cli -h 127.0.0.1 -p "$p" "$@" || return 1; done
}
cluster_up() { [ "$(cluster_each ping 2>/dev/null | grep -c PONG)" = 3 ]; }
cluster_ok() { [ "$(cluster_each cluster info 2>/dev/null | grep -c '^cluster_state:ok')" = 3 ]; }
cluster_wait() { # cluster_wait SECONDS CMD...: like wait_for, polling every 0.1 s
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do "${@:2}" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
ensure_redis_cluster() {
	if cluster_ok; then return; fi
	command -v redis-server >/dev/null || apt_install redis-server
	local p dir started=0
	for p in $CLUSTER_PORTS; do
		if redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null | grep -q PONG; then continue; fi
		dir="$CLUSTER_DIR/$p"
		rm -rf "$dir" && mkdir -p "$dir" || die "cannot make $dir"
		log "starting Redis Cluster node 127.0.0.1:$p"
		# A short node timeout shortens the wait for cluster_state:ok after a
		# reset; 3 s is still far above any pause on loopback.
		redis-server --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 3000 \
			--bind 127.0.0.1 --port "$p" --dir "$dir" --save "" --appendonly no --daemonize yes \
			--logfile "$dir/redis.log" \
			|| die "could not start a Redis Cluster node on port $p"
		started=$((started + 1))
	done
	cluster_wait 30 cluster_up || die "Redis Cluster nodes are not answering on ports $CLUSTER_PORTS"
	if [ "$started" != 3 ]; then
		# Nodes that were already running may be a cluster still settling;
		# otherwise they are emptied and forgotten, to be created afresh.
		if cluster_wait 3 cluster_ok; then return; fi
		cluster_each flushall >/dev/null && cluster_each cluster reset hard >/dev/null \
			|| die "cannot reset the Redis Cluster nodes on ports $CLUSTER_PORTS"
	fi
	log "creating the Redis Cluster on ports $CLUSTER_PORTS"
	local nodes=()
	for p in $CLUSTER_PORTS; do nodes+=("127.0.0.1:$p"); done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$CLUSTER_DIR/create.log" 2>&1 \
		|| { cat "$CLUSTER_DIR/create.log" >&2; die "redis-cli --cluster create failed"; }
	cluster_wait 30 cluster_ok || die "the Redis Cluster on ports $CLUSTER_PORTS never reached cluster_state:ok"
}

ensure_chromium() {
	if ! command -v chromium >/dev/null; then
		log "installing chromium for the browser tests"
		apt_install chromium
		command -v chromium >/dev/null || die "chromium missing after install"
	fi
	# Without a Chinese font the chat page (and its screenshots) shows boxes.
	if ! has_cjk_font; then
		log "installing fonts-noto-cjk (Chinese text in the browser tests)"
		apt_install fonts-noto-cjk
	fi
}

ensure_mariadb
ensure_redis
ensure_redis_cluster
ensure_chromium
mysql --protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot \
	-e "CREATE DATABASE IF NOT EXISTS unionbot_ci CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" \
	|| die "cannot create the scratch database"

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

log "go vet"
go vet ./...

log "go test (integration tests on: MariaDB ${MYSQL_HOST}:${MYSQL_PORT}, Redis 127.0.0.1:${REDIS_PORT}, Redis Cluster ${UNIONBOT_TEST_REDIS_CLUSTER})"
go test -race -count=1 -timeout 15m "$@" ./...
