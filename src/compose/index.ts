/**
 * The compose layer: one function per verb, each taking the engine, the
 * loaded project (or its name, for verbs that work from labels) and typed
 * options, and returning typed results; progress goes to an optional
 * listener as ComposeEvents. No printing, no exiting, no flags: the CLI
 * (src/cli) turns flags into these calls and renders what they return, and
 * so can any other caller (a Node API, a Docker Engine API server).
 */
export { openEngine, defaultBackend } from './engine.js';
export { loadProject, enableServices, ComposeError, type LoadOptions } from '../project/index.js';
export type { Project, ServiceConfig } from '../project/types.js';
export type * from '../engine/types.js';
export { formatPlan, type Plan } from '../planner/plan.js';

export { type ComposeEvent, type ComposeListener, type EventStatus, type ProgressEvent, ignoreEvents } from './progress.js';
export { loadedProject, type ProjectRef } from './project.js';
export type { LogConsumer, LogSource } from './logs-consumer.js';
export { displayName } from './containers.js';

export { up, create, type UpOptions, type UpAttachOptions, type UpResult } from './up.js';
export type { CreateOptions, Converged } from './converge.js';
export { down, type DownOptions, type PlanResult } from './down.js';
export {
  start, stop, restart, kill, rm, pause, unpause,
  type StartOptions, type StopOptions, type RestartOptions, type KillOptions, type RmOptions, type RmResult, type ServicesOptions,
} from './lifecycle.js';
export { ps, type PsOptions } from './ps.js';
export { logs, type LogsOptions } from './logs.js';
export { exec, type ExecOptions, type ExecResult } from './exec.js';
export { run, type RunOptions, type RunResult } from './run.js';
export { runContainer, type RunContainerOptions, type RunningContainer } from './run-container.js';
export { cp, type CpOptions, type CpResult } from './copy.js';
export { top, port, images, ls, volumes, type PortOptions, type ImageRow, type ProjectSummary } from './info.js';
export { events, wait, type EventsOptions, type ProjectEvent, type WaitOptions } from './events.js';
export { scale, type ScaleOptions } from './scale.js';
export { watch, watchRules, type WatchOptions, type WatchEvent } from './watch.js';
export { limitParallelism } from './parallel.js';
export { build, type BuildOptions } from './build.js';
export { pull, type PullOptions as ComposePullOptions, type PullJob } from './pull.js';
export { push, type PushOptions as ComposePushOptions } from './push.js';
export { config, type ConfigOptions } from './config.js';
export { login, logout } from './registry.js';
