export { openEngine, defaultBackend } from '../engine/index.js';
export type { BackendName, Engine } from '../engine/types.js';
