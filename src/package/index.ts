/**
 * What `import … from 'tscompose'` gives a Node program (a test suite, a
 * script): `up()` and a `Stack` handle for the common case, and the compose
 * layer's functions (`compose.up(engine, project, …)`, one per CLI verb) with
 * `loadProject` and `openEngine` for everything else. The native engine by
 * default, a Docker Engine with `backend: 'docker'`. Errors are typed:
 * a compose file's mistakes are a ComposeError with file, line and column.
 */
export { up, openStack, Stack, ExecError, type ProjectOptions, type UpOptions, type LogEntry, type StackLogsOptions, type StackExecOptions, type ExecOutput } from './stack.js';

export * as compose from '../compose/index.js';
// Not the swarm verbs (src/compose/swarm.ts): their types name dockerode's, which a consumer's
// compiler would need @types/dockerode for (a dev dependency of ours); the CLI has them.
export { loadProject, type LoadOptions } from '../project/index.js';
export { openEngine, defaultBackend } from '../engine/index.js';
export { hostReport, type HostReport } from '../engine/native/engine/host-info.js';

export { ComposeError, type Diagnostic } from '../project/diagnostics.js';
export { UserError, NotFoundError, ConflictError } from '../util/errors.js';
export { EngineError } from '../engine/types.js';
export { MissingHostToolError } from '../util/host-tools.js';
export { VERSION } from '../util/version.js';

export type { Project, ServiceConfig } from '../project/types.js';
export type { BackendName, ContainerSummary, ContainerState, Engine, PortProtocol } from '../engine/types.js';
export type { ComposeEvent, ComposeListener, ProgressEvent } from '../compose/progress.js';
export type { ProjectEvent } from '../compose/events.js';
export type { PsOptions } from '../compose/ps.js';
