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
ensure_chromium
mysql --protocol=tcp -h "$MYSQL_HOST" -P "$MYSQL_PORT" -uroot \
	-e "CREATE DATABASE IF NOT EXISTS unionbot_ci CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" \
	|| die "cannot create the scratch database"

log "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

log "go vet"
go vet ./...

log "go test (integration tests on: MariaDB ${MYSQL_HOST}:${MYSQL_PORT}, Redis 127.0.0.1:${REDIS_PORT})"
go test -race -count=1 -timeout 15m "$@" ./...
