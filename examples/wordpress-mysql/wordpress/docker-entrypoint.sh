#!/bin/bash
# Prepares the site's own files before Apache starts, as Docker Hub's wordpress
# image does on each start. Here WordPress's core stays read-only in the image
# (/usr/share/wordpress, Debian's package); the volume /var/lib/wordpress holds
# what belongs to the site: wp-content (uploads, themes, plugins, languages)
# and the keys and salts generated on the first start. The database settings
# are read from WORDPRESS_* variables on every request (config-default.php).
set -euo pipefail

log() { printf '%s [Entrypoint]: %s\n' "$(date '+%Y-%m-%d %H:%M:%S%:z')" "$*" >&2; }

SITE_DIR=/var/lib/wordpress
CONTENT_DIR="$SITE_DIR/wp-content"

random_secret() {
	head -c 48 /dev/urandom | base64 | tr -d '\n'
}

write_salts() {
	local file="$SITE_DIR/wp-salts.php" tmp key
	[ -s "$file" ] && return
	log "Generating keys and salts into $file"
	tmp="$(mktemp "$SITE_DIR/.wp-salts.XXXXXX")"
	{
		printf '<?php\n// Generated on the first start of this site; WORDPRESS_AUTH_KEY and the others override them.\nreturn array(\n'
		for key in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
			printf "\t'%s' => '%s',\n" "$key" "$(random_secret)"
		done
		printf ');\n'
	} > "$tmp"
	chown root:www-data "$tmp"
	chmod 640 "$tmp"
	mv "$tmp" "$file"
}

prepare_site() {
	mkdir -p "$SITE_DIR"
	# Links the themes and plugins that Debian packages installed into wp-content, and drops links to
	# removed ones: the volume may come from an older image, or from an engine that does not copy the
	# image's content into a new volume.
	wp-setup --sync-wp-content >/dev/null
	mkdir -p "$CONTENT_DIR/uploads" "$CONTENT_DIR/upgrade" "$CONTENT_DIR/blogs.dir"
	# WordPress writes uploads, and installs plugins and themes, as the web server's user.
	local dir
	for dir in "$CONTENT_DIR" "$CONTENT_DIR"/{uploads,upgrade,blogs.dir,plugins,themes,languages}; do
		[ "$(stat -c %U "$dir")" = www-data ] || chown www-data:www-data "$dir"
	done
	write_salts
}

if [[ "${1:-}" == apache2* ]]; then
	if [ "$(id -u)" = 0 ]; then
		prepare_site
	elif [ ! -s "$SITE_DIR/wp-salts.php" ]; then
		log "Running as uid $(id -u): cannot prepare $SITE_DIR; give it to this user, or start as root once"
	fi
	if [ -z "${WORDPRESS_DB_HOST:-}${WORDPRESS_DB_HOST_FILE:-}" ]; then
		log 'WORDPRESS_DB_HOST is not set: WordPress will look for its database at "mysql"'
	fi
fi

exec "$@"
