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
    case 'native': {
      const { openNativeEngine } = await import('./native/engine/index.js');
      return openNativeEngine();
    }
    default:
      throw new UserError(`unknown backend "${String(backend)}"`, 1, 'use --backend native or --backend docker');
  }
}

export function defaultBackend(): BackendName {
  const env = process.env.TSCOMPOSE_BACKEND;
  return env === 'docker' ? 'docker' : 'native';
}
