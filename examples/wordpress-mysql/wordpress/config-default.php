<?php
/*
 * WordPress settings from the container's environment, with the names and
 * defaults of Docker Hub's wordpress image. Debian's wp-config.php
 * (/usr/share/wordpress) loads this file for any Host header, then fills in
 * what is still undefined (ABSPATH, WP_CONTENT_DIR = /var/lib/wordpress/wp-content)
 * and starts WordPress. The environment is read on every request, so a
 * changed variable takes effect when the container is recreated, with no
 * generated file to go stale.
 */

if (!function_exists('getenv_docker')) {
	/**
	 * $name from the environment; or, when ${name}_FILE is set, the content of
	 * that file (a secret mounted into the container); or $default. The name is
	 * the one the official image's wp-config.php gives it, so WORDPRESS_CONFIG_EXTRA
	 * snippets written for that image work here too.
	 */
	function getenv_docker($name, $default) {
		$file = getenv($name . '_FILE');
		if ($file !== false && $file !== '') {
			$content = @file_get_contents($file);
			if ($content === false) {
				error_log("config-default.php: {$name}_FILE names $file, which cannot be read");
				return $default;
			}
			return rtrim($content, "\r\n");
		}
		$value = getenv($name);
		return $value === false ? $default : $value;
	}
}

define('DB_NAME', getenv_docker('WORDPRESS_DB_NAME', 'wordpress'));
define('DB_USER', getenv_docker('WORDPRESS_DB_USER', 'example username'));
define('DB_PASSWORD', getenv_docker('WORDPRESS_DB_PASSWORD', 'example password'));
// host, host:port, or host:/path/to/socket
define('DB_HOST', getenv_docker('WORDPRESS_DB_HOST', 'mysql'));
define('DB_CHARSET', getenv_docker('WORDPRESS_DB_CHARSET', 'utf8'));
define('DB_COLLATE', getenv_docker('WORDPRESS_DB_COLLATE', ''));

/*
 * Keys and salts sign cookies and nonces. WORDPRESS_AUTH_KEY and the others
 * set them; otherwise the ones the entrypoint generated once into the volume
 * are used, so that logins survive a new container.
 */
$tsc_salts_file = '/var/lib/wordpress/wp-salts.php';
$tsc_salts = is_readable($tsc_salts_file) ? include $tsc_salts_file : array();
foreach (array('AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT') as $tsc_key) {
	$tsc_default = is_array($tsc_salts) && isset($tsc_salts[$tsc_key]) ? $tsc_salts[$tsc_key] : '';
	define($tsc_key, getenv_docker('WORDPRESS_' . $tsc_key, $tsc_default));
}
unset($tsc_salts_file, $tsc_salts, $tsc_key, $tsc_default);

$table_prefix = getenv_docker('WORDPRESS_TABLE_PREFIX', 'wp_');

define('WP_DEBUG', !!getenv_docker('WORDPRESS_DEBUG', ''));

// Behind a TLS-terminating proxy, WordPress must still build https:// links.
if (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) && strpos($_SERVER['HTTP_X_FORWARDED_PROTO'], 'https') !== false) {
	$_SERVER['HTTPS'] = 'on';
}

// Any further PHP, as the official image allows: e.g. define('WP_HTTP_BLOCK_EXTERNAL', true);
$tsc_config_extra = getenv_docker('WORDPRESS_CONFIG_EXTRA', '');
if ($tsc_config_extra !== '') {
	eval($tsc_config_extra);
}
unset($tsc_config_extra);
