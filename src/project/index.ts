/**
 * The compose loader's public face: what other modules import. Loading is
 * `loadProject`; the model is in `types.ts`; bad input is a `ComposeError`.
 */
export { loadProject, type LoadOptions } from './load.js';
export { enableServices } from './profiles.js';
export { ComposeError, formatDiagnostic, type Diagnostic, type SourcePos } from './diagnostics.js';
export { projectToPlain, imageName } from './serialize.js';
export { formatDuration, parseDuration, parseBytes } from './syntax/units.js';
export type * from './types.js';
