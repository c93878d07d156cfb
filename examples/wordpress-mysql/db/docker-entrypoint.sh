#!/bin/bash
# Starts MariaDB (Debian's package) the way Docker Hub's mariadb image does: on
# the first start, with an empty data directory, it creates the system tables,
# the root account, an optional database and user from MARIADB_* (or MYSQL_*)
# variables, runs /docker-entrypoint-initdb.d/*, and then starts the server as
# the mysql user (uid 999). Later starts find $DATADIR/mysql and skip all that.
set -eo pipefail
shopt -s nullglob

log() {
	local level="$1"; shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date '+%Y-%m-%d %H:%M:%S%:z')" "$level" "$*" >&2
}
note() { log Note "$@"; }
warn() { log Warn "$@"; }
die() { log ERROR "$@"; exit 1; }

# env_or_file NAME [default]: NAME from the environment, or read from the file
# named by NAME_FILE (for secrets); setting both is an error.
env_or_file() {
	local name="$1" file_name="${1}_FILE" value="${2:-}"
	if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
		die "both $name and $file_name are set, but they are exclusive: set one"
	fi
	if [ -n "${!name:-}" ]; then
		value="${!name}"
	elif [ -n "${!file_name:-}" ]; then
		[ -r "${!file_name}" ] || die "$file_name names ${!file_name}, which cannot be read"
		value="$(< "${!file_name}")"
	fi
	export "$name"="$value"
	unset "$file_name"
}

# Each setting is read as MARIADB_<NAME> first, then as MYSQL_<NAME> (the older spelling).
read_settings() {
	local name
	for name in ROOT_PASSWORD ROOT_PASSWORD_HASH ROOT_HOST DATABASE USER PASSWORD PASSWORD_HASH \
		ALLOW_EMPTY_ROOT_PASSWORD RANDOM_ROOT_PASSWORD INITDB_SKIP_TZINFO; do
		env_or_file "MYSQL_$name"
		local mysql_name="MYSQL_$name"
		env_or_file "MARIADB_$name" "${!mysql_name}"
	done
	# The official image's older name for this one has no ROOT in it.
	env_or_file MYSQL_ALLOW_EMPTY_PASSWORD
	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=$MYSQL_ALLOW_EMPTY_PASSWORD}"
	: "${MARIADB_ROOT_HOST:=%}"
}

check_settings() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] \
		&& [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		die $'The database is uninitialized and no root password option is set.\n\tSet one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD (or their MYSQL_ spellings).'
	fi
	if [ "$MARIADB_USER" = root ]; then
		die 'MARIADB_USER="root": MARIADB_USER and MARIADB_PASSWORD make an ordinary user; set the root password with MARIADB_ROOT_PASSWORD instead'
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD$MARIADB_PASSWORD_HASH" ]; then
		die "MARIADB_USER=$MARIADB_USER is set without MARIADB_PASSWORD (or MARIADB_PASSWORD_HASH): set one"
	fi
	if [ -n "$MARIADB_PASSWORD$MARIADB_PASSWORD_HASH" ] && [ -z "$MARIADB_USER" ]; then
		warn 'MARIADB_PASSWORD is set without MARIADB_USER: no user is created'
	fi
}

# The server's own view of an option (datadir, socket), given the command line and the config files.
server_option() {
	local name="$1"; shift
	# Only lines that begin in column 0 are option values: wrapped help text below them may begin with the same word.
	"$@" --verbose --help --log-bin-index="$(mktemp -u)" 2>/dev/null \
		| grep -m1 -E "^${name}[[:space:]]" | sed -E 's/^[^[:space:]]+[[:space:]]+//' || true
}

check_server_config() {
	local errors
	if ! errors="$("$@" --verbose --help --log-bin-index="$(mktemp -u)" 2>&1 >/dev/null)"; then
		die $'the server rejected its configuration\n\tcommand: '"$*"$'\n\t'"$errors"
	fi
}

# SQL literals: a quoted string, and a backquoted identifier.
sql_string() {
	local s="${1//\\/\\\\}"
	s="${s//\'/\\\'}"
	printf "'%s'" "$s"
}
sql_identifier() {
	printf '`%s`' "${1//\`/\`\`}"
}

random_password() {
	head -c 24 /dev/urandom | base64 | tr -d '/+=\n'
}

# docker_process_sql: runs SQL from stdin as root on the temporary server (init scripts may call it, as with the official image).
docker_process_sql() {
	mariadb --defaults-extra-file="$CLIENT_CNF" --protocol=socket --socket="$SOCKET" "$@"
}

start_temp_server() {
	note 'Starting a temporary server (no networking) to set the database up'
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--expire-logs-days=0 --skip-log-bin --loose-innodb_buffer_pool_load_at_startup=0 \
		--loose-innodb_buffer_pool_dump_at_shutdown=0 &
	TEMP_SERVER_PID=$!
	local i
	for i in $(seq 600); do
		if docker_process_sql --database=mysql -e 'SELECT 1' >/dev/null 2>&1; then
			note 'Temporary server started'
			return
		fi
		kill -0 "$TEMP_SERVER_PID" 2>/dev/null || die 'the temporary server exited during start-up (its log is above)'
		sleep 0.1
	done
	die 'the temporary server did not answer within 60 s'
}

stop_temp_server() {
	note 'Stopping the temporary server'
	kill "$TEMP_SERVER_PID"
	wait "$TEMP_SERVER_PID" || die 'the temporary server did not shut down cleanly'
	note 'Temporary server stopped'
}

init_datadir() {
	note "Initializing database files in $DATADIR"
	# --cross-bootstrap: no accounts named after this container's hostname, which changes with every container.
	mariadb-install-db --datadir="$DATADIR" --rpm --cross-bootstrap --auth-root-authentication-method=normal \
		--skip-test-db --default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin --expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 "${@:2}"
	note 'Database files initialized'
}

setup_db() {
	if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ]; then
		note 'Loading time zone tables'
		mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | docker_process_sql --database=mysql
	fi

	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD="$(random_password)"
		note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	local root_auth=''
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		root_auth="IDENTIFIED BY PASSWORD $(sql_string "$MARIADB_ROOT_PASSWORD_HASH")"
	elif [ -n "$MARIADB_ROOT_PASSWORD" ]; then
		root_auth="IDENTIFIED BY $(sql_string "$MARIADB_ROOT_PASSWORD")"
	fi

	local sql
	# Only root@localhost and the system's own accounts stay; root from elsewhere is MARIADB_ROOT_HOST's.
	sql="SET @@SESSION.SQL_LOG_BIN=0;
DELETE FROM mysql.global_priv WHERE NOT (user IN ('root', 'mysql', 'mariadb.sys') AND host = 'localhost');
FLUSH PRIVILEGES;
"
	if [ -n "$root_auth" ]; then
		sql+="ALTER USER 'root'@'localhost' $root_auth;
"
	fi
	if [ "$MARIADB_ROOT_HOST" != localhost ]; then
		local root_at="'root'@$(sql_string "$MARIADB_ROOT_HOST")"
		sql+="CREATE USER $root_at $root_auth;
GRANT ALL ON *.* TO $root_at WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO $root_at WITH GRANT OPTION;
"
	fi

	# A user with no privileges for healthcheck.sh, so that its probes log no access-denied warnings.
	local health_password health_auth
	health_password="$(random_password)"
	health_auth="IDENTIFIED BY $(sql_string "$health_password")"
	sql+="CREATE USER 'healthcheck'@'127.0.0.1' $health_auth, 'healthcheck'@'::1' $health_auth, 'healthcheck'@'localhost' $health_auth;
"
	if [ -n "$MARIADB_DATABASE" ]; then
		note "Creating database $MARIADB_DATABASE"
		sql+="CREATE DATABASE IF NOT EXISTS $(sql_identifier "$MARIADB_DATABASE");
"
	fi
	if [ -n "$MARIADB_USER" ]; then
		note "Creating user $MARIADB_USER"
		local user_at user_auth
		user_at="$(sql_string "$MARIADB_USER")@'%'"
		if [ -n "$MARIADB_PASSWORD_HASH" ]; then
			user_auth="IDENTIFIED BY PASSWORD $(sql_string "$MARIADB_PASSWORD_HASH")"
		else
			user_auth="IDENTIFIED BY $(sql_string "$MARIADB_PASSWORD")"
		fi
		sql+="CREATE USER $user_at $user_auth;
"
		if [ -n "$MARIADB_DATABASE" ]; then
			# In GRANT, _ and % in a database name are wildcards: escape them.
			local grant_db
			grant_db="$(sql_identifier "$MARIADB_DATABASE")"
			grant_db="${grant_db//_/\\_}"
			grant_db="${grant_db//%/\\%}"
			note "Giving user $MARIADB_USER access to schema $MARIADB_DATABASE"
			sql+="GRANT ALL ON $grant_db.* TO $user_at;
"
		fi
	fi
	docker_process_sql --database=mysql <<< "$sql"

	# From here on the client logs in with the password just set.
	printf '[client]\nuser=root\npassword=%s\n' "$MARIADB_ROOT_PASSWORD" > "$CLIENT_CNF"
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		warn 'MARIADB_ROOT_PASSWORD_HASH is set: /docker-entrypoint-initdb.d scripts cannot log in as root with it (only the socket is open)'
	fi
	# The port only when the server has one (0: --skip-networking, and the check must then fail).
	local port
	port="$(server_option port "$@")"
	{
		printf '[client]\nuser=healthcheck\npassword=%s\nprotocol=tcp\nhost=localhost\n' "$health_password"
		if [ -n "$port" ] && [ "$port" != 0 ]; then printf 'port=%s\n' "$port"; fi
	} > "$DATADIR/.my-healthcheck.cnf"
	chmod 600 "$DATADIR/.my-healthcheck.cnf"
}

run_init_files() {
	local f
	local db_args=()
	if [ -n "$MARIADB_DATABASE" ]; then db_args=(--database="$MARIADB_DATABASE"); fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					note "$0: running $f"; "$f"
				else
					note "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi ;;
			*.sql)     note "$0: running $f"; docker_process_sql "${db_args[@]}" < "$f" ;;
			*.sql.gz)  note "$0: running $f"; gunzip -c "$f" | docker_process_sql "${db_args[@]}" ;;
			*.sql.xz)  note "$0: running $f"; xzcat "$f" | docker_process_sql "${db_args[@]}" ;;
			*.sql.zst) note "$0: running $f"; zstd -dc "$f" | docker_process_sql "${db_args[@]}" ;;
			*)         note "$0: ignoring $f" ;;
		esac
	done
}

wants_help() {
	local arg
	for arg; do
		case "$arg" in -'?'|--help|--print-defaults|-V|--version) return 0 ;; esac
	done
	return 1
}

main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- mariadbd "$@"
	fi
	if { [ "$1" = mariadbd ] || [ "$1" = mysqld ]; } && ! wants_help "$@"; then
		note "Entrypoint script for MariaDB Server $(mariadbd --version | sed -E 's/.*Ver ([^ ]+).*/\1/') started."
		check_server_config "$@"
		DATADIR="$(server_option datadir "$@")"
		DATADIR="${DATADIR%/}"
		SOCKET="$(server_option socket "$@")"
		[ -n "$DATADIR" ] && [ -n "$SOCKET" ] || die "could not read datadir and socket from the server's configuration"

		if [ "$(id -u)" = 0 ]; then
			# A fresh volume may belong to root, and /run is empty in a new container.
			mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
			find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
			chown mysql:mysql "$(dirname "$SOCKET")"
			note 'Switching to dedicated user mysql'
			exec gosu mysql "${BASH_SOURCE[0]}" "$@"
		fi

		if [ ! -d "$DATADIR/mysql" ]; then
			read_settings
			check_settings
			# The client's login for the steps below; root's password stays empty until setup_db sets it.
			CLIENT_CNF="$(mktemp "$(dirname "$SOCKET")/.entrypoint-client.XXXXXX.cnf")"
			trap 'rm -f "$CLIENT_CNF"' EXIT
			printf '[client]\nuser=root\npassword=\n' > "$CLIENT_CNF"
			init_datadir "$@"
			start_temp_server "$@"
			setup_db "$@"
			run_init_files
			stop_temp_server
			rm -f "$CLIENT_CNF"
			note 'MariaDB init process done. Ready for start up.'
		fi
	fi
	exec "$@"
}

main "$@"
