#!/bin/bash
# healthcheck.sh [--connect] [--innodb_initialized] [--innodb_buffer_pool_loaded]
#
# The health test of Docker Hub's mariadb image, with the same options: it
# exits 0 when every named check passes (with no option: --connect). It logs
# in as the unprivileged `healthcheck` user that the entrypoint made, whose
# credentials are in $DATADIR/.my-healthcheck.cnf.
#
#   --connect                    a TCP connection succeeds. The temporary server
#                                of the first start has no networking, so the
#                                container is not healthy before init is done.
#   --innodb_initialized         InnoDB is up.
#   --innodb_buffer_pool_loaded  the buffer pool dump (if any) is loaded.
set -eo pipefail

datadir=/var/lib/mysql
checks=()
for arg; do
	case "$arg" in
		--connect|--innodb_initialized|--innodb_buffer_pool_loaded) checks+=("${arg#--}") ;;
		--datadir=*) datadir="${arg#--datadir=}" ;;
		*) echo "healthcheck.sh: unknown option $arg (known: --connect --innodb_initialized --innodb_buffer_pool_loaded --datadir=DIR)" >&2; exit 1 ;;
	esac
done
[ ${#checks[@]} -gt 0 ] || checks=(connect)

cnf="$datadir/.my-healthcheck.cnf"

query() {
	if [ -r "$cnf" ]; then
		mariadb --defaults-extra-file="$cnf" --connect-timeout=5 --batch --skip-column-names -e "$1"
	else
		# A data directory made by an image without the healthcheck user: a refused login still proves the server is up.
		echo "healthcheck.sh: $cnf is missing; only --connect can be checked" >&2
		[ "$1" = 'SELECT 1' ] || return 1
		mariadb-admin --protocol=tcp --host=localhost --connect-timeout=5 ping >/dev/null 2>&1 && echo 1
	fi
}

for check in "${checks[@]}"; do
	case "$check" in
		connect)
			[ "$(query 'SELECT 1')" = 1 ] ;;
		innodb_initialized)
			[ "$(query "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ] ;;
		innodb_buffer_pool_loaded)
			query "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'" | grep -q 'load completed' ;;
	esac || { echo "healthcheck.sh: $check failed" >&2; exit 1; }
done
