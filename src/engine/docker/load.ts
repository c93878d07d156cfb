import Module, { createRequire } from 'node:module';
import type DockerType from 'dockerode';

type Loader = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;

/**
 * Modules dockerode and docker-modem require at load time but use only for
 * features tscompose never touches on a local daemon: BuildKit sessions
 * (gRPC, protobuf), ssh:// hosts, and the build-context packer. Loading them
 * costs ~250 ms of a CLI run, so they are handed out as stand-ins that load
 * the real module on first use.
 */
const DEFERRED = new Set(['@grpc/grpc-js', '@grpc/proto-loader', 'tar-fs', '@balena/dockerignore']);

function deferred(load: () => unknown): unknown {
  let real: unknown;
  const get = () => (real ??= load());
  // A function target, so that a deferred module can be called as well as read.
  return new Proxy(function () {}, {
    get: (_t, key) => (get() as Record<string | symbol, unknown>)[key],
    apply: (_t, self, args) => (get() as (...a: unknown[]) => unknown).apply(self, args),
    construct: (_t, args) => new (get() as new (...a: unknown[]) => object)(...args),
  });
}

let cached: typeof DockerType | undefined;

export function loadDockerode(): typeof DockerType {
  if (cached) return cached;
  const mod = Module as unknown as { _load: Loader };
  const original = mod._load;
  mod._load = function (this: unknown, request, parent, isMain) {
    if (DEFERRED.has(request)) return deferred(() => original.call(mod, request, parent, isMain));
    // docker-modem reads `require('ssh2').Client` at load time; defer its ssh module as a whole.
    if (request === './ssh' && parent?.filename?.includes(`${'/'}docker-modem${'/'}`)) return deferred(() => original.call(mod, request, parent, isMain));
    return original.call(this, request, parent, isMain);
  };
  try {
    cached = createRequire(import.meta.url)('dockerode') as typeof DockerType;
  } finally {
    mod._load = original;
  }
  return cached;
}
