#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the tests (and Chromium for the
# console's browser tests), on loopback ports, in a
# directory of their own. Installs them from Debian's packages when missing
# (as root).
#
#   eval "$(scripts/services.sh start DIR)"   # prints the GATEHOUSE_TEST_* exports
#   scripts/services.sh stop DIR
#
# PostgreSQL refuses to run as root, so as root it runs as its own system user.
set -euo pipefail

cmd=${1:?usage: services.sh start|stop DIR}
dir=${2:?usage: services.sh start|stop DIR}

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( (RANDOM % 30000) + 20000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	echo "no free port found" >&2; return 1
}

install_missing() {
	local need=()
	[ -n "$(pgbin)" ] && [ -x "$(pgbin)/postgres" ] || need+=(postgresql)
	command -v redis-server >/dev/null || need+=(redis-server)
	# The console's browser tests drive Debian's Chromium headless.
	command -v chromium >/dev/null || need+=(chromium fonts-dejavu-core)
	[ ${#need[@]} -eq 0 ] && return
	if [ "$(id -u)" != 0 ]; then
		echo "services.sh: ${need[*]} missing; install them (apt-get install ${need[*]}) or run as root" >&2
		exit 1
	fi
	# No system-wide cluster or service: the tests start their own.
	mkdir -p /etc/postgresql-common
	[ -f /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
	echo "services.sh: installing ${need[*]} from Debian's packages" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
}

start() {
	install_missing
	mkdir -p "$dir"
	chmod 0711 "$dir"
	local bin pgport redisport
	bin=$(pgbin)
	pgport=$(free_port)
	redisport=$(free_port)

	install -d -m 0700 "$dir/pg"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg"
	as_pg "$bin/initdb" -D "$dir/pg/data" -U gatehouse --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; exit 1; }
	# fsync off: these databases are thrown away; nothing here tests PostgreSQL's durability.
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $pgport -k $dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" >&2

	redis-server --port "$redisport" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
		--dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$redisport") 2>/dev/null && break
		sleep 0.1
	done

	echo "export GATEHOUSE_TEST_POSTGRES='postgres://gatehouse@127.0.0.1:$pgport/postgres?sslmode=disable'"
	echo "export GATEHOUSE_TEST_REDIS='redis://127.0.0.1:$redisport/0'"
	echo "export GATEHOUSE_TEST_PGBIN='$bin'"
	echo "export GATEHOUSE_TEST_REDIS_SERVER='$(command -v redis-server)'"
	echo "export GATEHOUSE_TEST_CHROMIUM='$(command -v chromium)'"
	echo "export GATEHOUSE_TEST_REQUIRE_SERVICES=1"
}

stop() {
	local bin
	bin=$(pgbin)
	if [ -d "$dir/pg/data" ] && [ -n "$bin" ]; then
		as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if [ -f "$dir/redis.pid" ]; then
		kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
