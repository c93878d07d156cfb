import { ConflictError } from '../../../util/errors.js';
import { lockHolder } from '../../../util/lock.js';
import { daemonLockPath } from '../../../network/daemon/protocol.js';
import { callDaemon } from '../../../network/daemon/client.js';
import { PassThrough, type Readable } from 'node:stream';
import type { AttachedStart, StartOptions } from '../runtime/index.js';

/** How a start relays the container's stdio (the runtime's attach options). */
export type AttachRequest = NonNullable<StartOptions['attach']>;
import type { EngineDeps } from './deps.js';
import { isPaused } from './freezer.js';
import { readAttachment } from '../../../network/attachments.js';
import { journal } from './events.js';
import { bootId, readEngineRecord, readIntent, readSupervisorState, writeIntent, type EngineRecord, type Intent } from './records.js';

/**
 * A container's start and stop with everything around the runtime's own:
 * the network before and after (ports taken again, names live, names off),
 * the user's intent (which the supervisor reads before it restarts anything),
 * the event journal, and a word to the supervisor when the container is one
 * it looks after. The Engine and the supervisor start containers this way.
 */

/**
 * Node discards a child's unread output when the child exits (it resumes
 * its stdio then): a container that prints and exits at once would lose its
 * output to the awaits between the start and whoever reads it. The output is
 * taken in right away, into streams that hold it until it is read.
 */
function keepOutput(a: AttachedStart | undefined): AttachedStart | undefined {
  if (!a) return a;
  const hold = (from: Readable | null) => {
    if (!from) return null;
    const to = new PassThrough();
    from.pipe(to);
    return to;
  };
  return { ...a, run: { ...a.run, stdout: hold(a.run.stdout), stderr: hold(a.run.stderr) } };
}

/** Whether the supervisor has anything to do for this container. */
export function supervised(rec: EngineRecord): boolean {
  return rec.healthcheck !== undefined || rec.restart.name !== 'no' || rec.autoRemove;
}

/** Whether the daemon (which hosts the supervisor) is alive: a live process holds its lock (it does for its whole life). */
export async function daemonAlive(): Promise<boolean> {
  try {
    return lockHolder(daemonLockPath()).held;
  } catch {
    return false;
  }
}

/**
 * A container the supervisor should be looking after while no daemon runs
 * (it was killed): running, or exited with that exit not yet acted on.
 */
export function needsSupervisor(rec: EngineRecord, running: boolean, finishedAt: string, handledFinish: string | undefined, intent: Intent | undefined): boolean {
  if (!supervised(rec)) return false;
  if (running) return true;
  return intent?.wanted === 'running' && finishedAt !== handledFinish && !finishedAt.startsWith('0001-');
}

/**
 * Tells the supervisor to look at a container again; `start` wakes the
 * daemon when it is not running. Not from the supervisor itself (it acts on
 * what it does). A daemon that leaves as we ask (it had nothing left to do)
 * is asked again, as long as the container still needs one.
 */
export async function notifySupervisor(deps: EngineDeps, id: string, start: boolean): Promise<void> {
  if (deps.inSupervisor) return;
  for (let attempt = 0; ; attempt++) {
    try {
      // A daemon started for this that leaves at once found nothing to supervise: its start scan saw to this container.
      await callDaemon({ op: 'supervise', id }, { start, leftIsDone: true });
      return;
    } catch (err) {
      if (!start || !(await stillNeeded(deps, id))) return;
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function stillNeeded(deps: EngineDeps, id: string): Promise<boolean> {
  let info;
  try {
    info = await (await deps.runtime()).inspect(id);
  } catch {
    return false;
  }
  return needsSupervisor(readEngineRecord(id), info.State.Running, info.State.FinishedAt, readSupervisorState(id)?.handledFinish, readIntent(id));
}

export function eventAttributes(name: string, image: string, labels: Record<string, string>): Record<string, string> {
  return { ...labels, name, image };
}

/** What the user asked for: an explicit start opens a new generation (restart count back to 0). */
export function recordStartIntent(id: string): void {
  const prev = readIntent(id);
  writeIntent(id, { generation: (prev?.generation ?? 0) + 1, wanted: 'running', manuallyStopped: false, bootId: bootId() });
}

export function recordStopIntent(id: string, change: Partial<Pick<Intent, 'wanted' | 'manuallyStopped'>> = { wanted: 'stopped', manuallyStopped: true }): void {
  const prev = readIntent(id) ?? { generation: 0, wanted: 'running' as const, manuallyStopped: false, bootId: bootId() };
  writeIntent(id, { ...prev, ...change });
}

/**
 * Starts a created or exited container: `explicit` for a user's start (a new
 * intent generation), not for the supervisor's restarts. Already running is
 * done; paused is a conflict, as with Docker.
 */
export async function startContainer(
  deps: EngineDeps,
  id: string,
  o: { explicit: boolean; attach?: AttachRequest },
): Promise<AttachedStart | undefined> {
  const rt = await deps.runtime();
  const info = await rt.inspect(id);
  if (info.State.Running) {
    if (isPaused(id)) throw new ConflictError(`cannot start a paused container ${info.Name.replace(/^\//, '')}`, 'try unpause instead');
    if (o.attach) throw new ConflictError(`container ${info.Name.replace(/^\//, '')} is already running`, 'use logs -f to follow it');
    if (o.explicit && supervised(readEngineRecord(id))) recordStartIntent(id);
    return undefined;
  }
  const rec = readEngineRecord(id);
  // Only the supervisor reads the user's intent: a container it never looks after needs none.
  if (o.explicit && supervised(rec)) recordStartIntent(id);
  // A container with no attachment record (network none or host) has nothing for the network to make
  // again before its start (containerStarting would return at once): its code stays unloaded.
  if (readAttachment(id)) {
    const bridge = await deps.bridge();
    await deps.netOp(() => bridge.containerStarting(rt, id));
  }
  let attached: AttachedStart | undefined;
  try {
    attached = keepOutput(await rt.start(id, o.attach ? { attach: o.attach } : {}));
  } catch (err) {
    // Nothing half-started: the ports taken again for this start are released.
    await deps.batches.stopped(id).catch(() => undefined);
    throw err;
  }
  const now = await rt.inspect(id);
  if (now.State.Running) await deps.batches.running(id, now.State.Pid);
  journal('container', 'start', id, eventAttributes(info.Name.replace(/^\//, ''), info.Config.Image, info.Config.Labels));
  if (supervised(rec)) await notifySupervisor(deps, id, true);
  return attached;
}
