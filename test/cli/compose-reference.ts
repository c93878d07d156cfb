/**
 * Docker Compose v2's CLI reference: every verb of `docker compose` and its flags (long names, those
 * the reference shows; hidden ones left out), as in docs/reference/docker_compose_<verb>.yaml of
 * Compose v2.40.3 (the last v2 release; `convert` is config's alias there and here). The global flags are
 * in COMPOSE_GLOBAL_FLAGS.
 */
export const COMPOSE_VERSION = 'v2.40.3';

export const COMPOSE_GLOBAL_FLAGS: readonly string[] = [
  'all-resources', 'ansi', 'compatibility', 'dry-run', 'env-file', 'file', 'parallel', 'profile', 'progress', 'project-directory', 'project-name',
];

export const COMPOSE_VERBS: Readonly<Record<string, readonly string[]>> = {
  attach: ['detach-keys', 'index', 'no-stdin', 'sig-proxy'],
  bridge: [],
  build: ['build-arg', 'builder', 'check', 'memory', 'no-cache', 'print', 'provenance', 'pull', 'push', 'quiet', 'sbom', 'ssh', 'with-dependencies'],
  commit: ['author', 'change', 'index', 'message', 'pause'],
  config: ['environment', 'format', 'hash', 'images', 'lock-image-digests', 'models', 'networks', 'no-consistency', 'no-env-resolution', 'no-interpolate', 'no-normalize', 'no-path-resolution', 'output', 'profiles', 'quiet', 'resolve-image-digests', 'services', 'variables', 'volumes'],
  cp: ['all', 'archive', 'follow-link', 'index'],
  create: ['build', 'force-recreate', 'no-build', 'no-recreate', 'pull', 'quiet-pull', 'remove-orphans', 'scale', 'yes'],
  down: ['remove-orphans', 'rmi', 'timeout', 'volumes'],
  events: ['json', 'since', 'until'],
  exec: ['detach', 'env', 'index', 'no-tty', 'privileged', 'user', 'workdir'],
  export: ['index', 'output'],
  images: ['format', 'quiet'],
  kill: ['remove-orphans', 'signal'],
  logs: ['follow', 'index', 'no-color', 'no-log-prefix', 'since', 'tail', 'timestamps', 'until'],
  ls: ['all', 'filter', 'format', 'quiet'],
  pause: [],
  port: ['index', 'protocol'],
  ps: ['all', 'filter', 'format', 'no-trunc', 'orphans', 'quiet', 'services', 'status'],
  publish: ['app', 'oci-version', 'resolve-image-digests', 'with-env', 'yes'],
  pull: ['ignore-buildable', 'ignore-pull-failures', 'include-deps', 'policy', 'quiet'],
  push: ['ignore-push-failures', 'include-deps', 'quiet'],
  restart: ['no-deps', 'timeout'],
  rm: ['force', 'stop', 'volumes'],
  run: ['build', 'cap-add', 'cap-drop', 'detach', 'entrypoint', 'env', 'env-from-file', 'interactive', 'label', 'name', 'no-TTY', 'no-deps', 'publish', 'pull', 'quiet', 'quiet-build', 'quiet-pull', 'remove-orphans', 'rm', 'service-ports', 'use-aliases', 'user', 'volume', 'workdir'],
  scale: ['no-deps'],
  start: [],
  stats: ['all', 'format', 'no-stream', 'no-trunc'],
  stop: ['timeout'],
  top: [],
  unpause: [],
  up: ['abort-on-container-exit', 'abort-on-container-failure', 'always-recreate-deps', 'attach', 'attach-dependencies', 'build', 'detach', 'exit-code-from', 'force-recreate', 'menu', 'no-attach', 'no-build', 'no-color', 'no-deps', 'no-log-prefix', 'no-recreate', 'no-start', 'pull', 'quiet-build', 'quiet-pull', 'remove-orphans', 'renew-anon-volumes', 'scale', 'timeout', 'timestamps', 'wait', 'wait-timeout', 'watch', 'yes'],
  version: ['format', 'short'],
  volumes: ['format', 'quiet'],
  wait: ['down-project'],
  watch: ['no-up', 'prune', 'quiet'],
};
