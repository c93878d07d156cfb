import type { Command } from 'commander';
import { register as registerUp } from './compose-up.js';
import { register as registerDown } from './compose-down.js';
import { register as registerPs } from './compose-ps.js';
import { register as registerLogs } from './compose-logs.js';
import { register as registerLifecycle } from './compose-lifecycle.js';
import { register as registerExec } from './compose-exec.js';
import { register as registerRun } from './compose-run.js';
import { register as registerInfo } from './compose-info.js';
import { register as registerEvents } from './compose-events.js';
import { register as registerCp } from './compose-cp.js';
import { register as registerBuild } from './build.js';
import { register as registerPull } from './pull.js';
import { register as registerPush } from './push.js';
import { register as registerCommit } from './commit.js';
import { register as registerLogin } from './login.js';
import { register as registerConfig } from './config.js';
import { register as registerImage } from './image.js';
import { register as registerNetwork } from './network.js';
import { register as registerContainer } from './container.js';
import { register as registerVolume } from './volume.js';

/**
 * Every command group registers itself here, one line each, in the order
 * `tscompose --help` lists them (Docker Compose's order: project verbs first,
 * then the engine's object commands).
 */
type Register = (program: Command) => void;

const registrations: Register[] = [
  registerUp,
  registerDown,
  registerPs,
  registerLogs,
  registerLifecycle,
  registerExec,
  registerRun,
  registerInfo,
  registerEvents,
  registerCp,
  registerBuild,
  registerPull,
  registerPush,
  registerCommit,
  registerConfig,
  registerImage,
  registerNetwork,
  registerContainer,
  registerVolume,
  registerLogin,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}
