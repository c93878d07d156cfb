/** tscompose's version, as `--version`, `version` and the native engine's info report it (package.json's; a test keeps them equal). */
export const VERSION = '0.1.0';
