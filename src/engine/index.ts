import type { BackendName, Engine } from './types.js';
import { UserError } from '../util/errors.js';

export type { Engine, BackendName } from './types.js';

/**
 * Opens the engine a command drives. Each backend is imported on demand: the
 * docker backend pulls in dockerode (and its gRPC dependencies), which costs
 * tens of milliseconds that a native run should not pay.
 */
export async function openEngine(backend: BackendName = defaultBackend()): Promise<Engine> {
  switch (backend) {
    case 'docker': {
      const { DockerEngine } = await import('./docker/engine.js');
      return DockerEngine.connect();
    }
    case 'native':
      return openNativeEngine();
    default:
      throw new UserError(`unknown backend "${String(backend)}"`, 1, 'use --backend native or --backend docker');
  }
}

export function defaultBackend(): BackendName {
  const env = process.env.TSCOMPOSE_BACKEND;
  return env === 'docker' ? 'docker' : 'native';
}

/**
 * The native Engine composes the image store, the runtime and the network.
 * Until its implementation lands (src/engine/native/engine.ts), asking for it
 * is a clear error, not a crash.
 */
async function openNativeEngine(): Promise<Engine> {
  const modulePath = './native/engine.js';
  let mod: { openNativeEngine?: () => Promise<Engine> };
  try {
    mod = (await import(modulePath)) as typeof mod;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('native/engine')) {
      throw new UserError(
        'the native engine does not implement the orchestrator\'s Engine interface yet',
        1,
        'run with --backend docker (or TSCOMPOSE_BACKEND=docker) to use a Docker Engine',
      );
    }
    throw err;
  }
  if (typeof mod.openNativeEngine !== 'function') {
    throw new UserError('the native engine module does not export openNativeEngine()', 1, 'run with --backend docker');
  }
  return mod.openNativeEngine();
}
