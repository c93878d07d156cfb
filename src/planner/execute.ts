import { NotConnectedError, type Engine } from '../engine/types.js';
import type { EventStatus, ProgressSink } from './progress.js';
import { NotFoundError, UserError, errorMessage } from '../util/errors.js';
import type { ContainerRef, Operation, Plan, PlanNode } from './plan.js';
import { waitForCondition } from './wait.js';
import { runHooks, type ServiceHooks } from './hooks.js';

export interface ExecuteOptions {
  signal?: AbortSignal;
  /** Poll interval of wait operations. */
  pollMs?: number;
  /** The services' post_start and pre_stop hooks, run after each start and before each stop. */
  hooks?: ServiceHooks;
}

export interface NodeFailure {
  node: PlanNode;
  error: unknown;
}

export interface ExecuteResult {
  /** Container ids made by CreateContainer nodes, by node id. */
  created: Map<number, string>;
  failures: NodeFailure[];
  /** Optional operations that failed (warnings). */
  warnings: NodeFailure[];
  /** Nodes not run because a dependency failed or the run was interrupted. */
  skipped: PlanNode[];
}

type Outcome = 'ok' | 'failed' | 'skipped';

/**
 * Runs a plan: each operation as soon as all its parents are done, in
 * parallel across the graph. It decides nothing: a failed operation stops
 * only its dependents (reported as skipped), independent branches finish, and
 * every failure is reported with its operation. An aborted signal lets running
 * operations finish and starts no new ones.
 */
export async function execute(plan: Plan, engine: Engine, emit: ProgressSink, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const result: ExecuteResult = { created: new Map(), failures: [], warnings: [], skipped: [] };
  const outcomes = new Map<number, Promise<Outcome>>();
  const groups = groupSpans(plan);
  const idOf = (ref: ContainerRef): string => {
    if ('id' in ref) return ref.id;
    const id = result.created.get(ref.createdBy);
    if (!id) throw new Error(`plan error: container of node #${ref.createdBy} was not created`);
    return id;
  };

  const runNode = async (node: PlanNode): Promise<Outcome> => {
    const deps = await Promise.all(node.deps.map((d) => outcomes.get(d)!));
    if (deps.some((o) => o !== 'ok') || options.signal?.aborted) {
      result.skipped.push(node);
      return 'skipped';
    }
    const label = describe(node, groups);
    if (label.start) emit({ id: label.id, status: 'working', text: label.start });
    try {
      const doneText = await perform(node, engine, idOf, result, options, (details) => emit({ id: label.id, status: 'warning', text: 'Warning', details }));
      if (label.done) emit({ id: label.id, status: 'done', text: doneText ?? label.done });
      return 'ok';
    } catch (error) {
      const status: EventStatus = node.optional ? 'warning' : 'error';
      emit({ id: label.id, status, text: node.optional ? 'Skipped' : 'Error', details: errorMessage(error) });
      (node.optional ? result.warnings : result.failures).push({ node, error });
      return node.optional ? 'ok' : 'failed';
    }
  };

  for (const node of plan.nodes) outcomes.set(node.id, runNode(node));
  await Promise.all(outcomes.values());
  return result;
}

/** Throws a UserError naming each failed operation (what a command does after execute). */
export function throwIfFailed(result: ExecuteResult): void {
  if (!result.failures.length) return;
  if (result.failures.length === 1 && result.failures[0]!.error instanceof UserError) throw result.failures[0]!.error;
  const lines = result.failures.map((f) => `${f.node.resource} ${f.node.op.kind}: ${errorMessage(f.error)}`);
  throw new UserError(lines.join('\n'));
}

async function perform(
  node: PlanNode,
  engine: Engine,
  idOf: (r: ContainerRef) => string,
  result: ExecuteResult,
  options: ExecuteOptions,
  warn: (details: string) => void,
): Promise<string | void> {
  const op = node.op;
  // Removing or stopping what is already gone reaches the goal: a second run after a crash converges.
  const tolerateMissing = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  };
  switch (op.kind) {
    case 'CreateNetwork':
      await engine.networks.create(op.spec);
      return;
    case 'RemoveNetwork':
      return tolerateMissing(() => engine.networks.remove(op.name));
    case 'ConnectNetwork':
      await engine.networks.connect(op.network, idOf(op.container), op.attachment);
      return;
    case 'DisconnectNetwork':
      // Not connected (any more) is the goal reached.
      return tolerateMissing(() => engine.networks.disconnect(op.network, idOf(op.container), true).catch((err: unknown) => {
        if (!(err instanceof NotConnectedError)) throw err;
      }));
    case 'CreateVolume':
      await engine.volumes.create(op.spec);
      return;
    case 'RemoveVolume':
      return tolerateMissing(() => engine.volumes.remove(op.name));
    case 'CreateContainer': {
      const { id, warnings } = await engine.containers.create(op.spec);
      result.created.set(node.id, id);
      // What the engine takes as best effort is said, as Compose shows the daemon's warnings.
      for (const w of warnings) warn(w);
      return;
    }
    case 'StartContainer':
      await engine.containers.start(idOf(op.container));
      if (options.hooks) await runHooks(engine, idOf(op.container), 'post_start', options.hooks);
      return;
    case 'StopContainer':
      return tolerateMissing(async () => {
        if (options.hooks) await runHooks(engine, idOf(op.container), 'pre_stop', options.hooks);
        await engine.containers.stop(idOf(op.container), op.timeout, undefined, op.thenRemove ? { thenRemove: true } : {});
      });
    case 'KillContainer':
      await engine.containers.kill(idOf(op.container), op.signal);
      return;
    case 'RestartContainer':
      await engine.containers.restart(idOf(op.container), op.timeout);
      return;
    case 'PauseContainer':
      await engine.containers.pause(idOf(op.container));
      return;
    case 'UnpauseContainer':
      await engine.containers.unpause(idOf(op.container));
      return;
    case 'RemoveContainer':
      return tolerateMissing(() => engine.containers.remove(idOf(op.container), { force: op.force ?? false, volumes: op.volumes }));
    case 'RenameContainer':
      await engine.containers.rename(idOf(op.container), op.name);
      return;
    case 'WaitContainer': {
      const c = await waitForCondition(engine, idOf(op.container), op.container.name, op.condition, {
        timeoutMs: op.timeoutMs,
        pollMs: options.pollMs,
        signal: options.signal,
      });
      // What was reached, as Compose says it: a container without a healthcheck is Running, not Healthy.
      return c.state === 'exited' ? 'Exited' : c.health === 'healthy' ? 'Healthy' : 'Running';
    }
    case 'RemoveImage':
      return tolerateMissing(async () => void await engine.images.remove(op.ref));
  }
}

interface Label {
  id: string;
  start?: string;
  done?: string;
}

const VERBS: Record<Operation['kind'], [string, string]> = {
  CreateNetwork: ['Creating', 'Created'],
  RemoveNetwork: ['Removing', 'Removed'],
  ConnectNetwork: ['Connecting', 'Connected'],
  DisconnectNetwork: ['Disconnecting', 'Disconnected'],
  CreateVolume: ['Creating', 'Created'],
  RemoveVolume: ['Removing', 'Removed'],
  CreateContainer: ['Creating', 'Created'],
  StartContainer: ['Starting', 'Started'],
  StopContainer: ['Stopping', 'Stopped'],
  KillContainer: ['Killing', 'Killed'],
  RestartContainer: ['Restarting', 'Restarted'],
  PauseContainer: ['Pausing', 'Paused'],
  UnpauseContainer: ['Unpausing', 'Unpaused'],
  RemoveContainer: ['Removing', 'Removed'],
  RenameContainer: ['Renaming', 'Renamed'],
  WaitContainer: ['Waiting', 'Healthy'],
  RemoveImage: ['Removing', 'Removed'],
};

/** The resource line an operation updates, as Compose names it. */
export function resourceId(op: Operation): string {
  switch (op.kind) {
    case 'CreateNetwork':
      return `Network ${op.spec.name}`;
    case 'RemoveNetwork':
      return `Network ${op.name}`;
    case 'CreateVolume':
      return `Volume "${op.spec.name}"`;
    case 'RemoveVolume':
      return `Volume "${op.name}"`;
    case 'CreateContainer':
      return `Container ${op.spec.name}`;
    case 'RemoveImage':
      return `Image ${op.ref}`;
    default:
      return `Container ${op.container.name}`;
  }
}

/** For each group (a recreate's four steps): its first and last node and the name it ends with. */
function groupSpans(plan: Plan): Map<string, { first: number; last: number; id: string }> {
  const spans = new Map<string, { first: number; last: number; id: string }>();
  for (const n of plan.nodes) {
    if (!n.group) continue;
    const s = spans.get(n.group);
    const id = n.op.kind === 'RenameContainer' ? `Container ${n.op.name}` : undefined;
    if (!s) spans.set(n.group, { first: n.id, last: n.id, id: id ?? resourceId(n.op) });
    else {
      s.last = n.id;
      if (id) s.id = id;
    }
  }
  return spans;
}

function describe(node: PlanNode, groups: Map<string, { first: number; last: number; id: string }>): Label {
  const span = node.group ? groups.get(node.group) : undefined;
  if (span) {
    return { id: span.id, start: node.id === span.first ? 'Recreate' : undefined, done: node.id === span.last ? 'Recreated' : undefined };
  }
  const [start, done] = VERBS[node.op.kind];
  if (node.op.kind === 'WaitContainer') {
    return { id: resourceId(node.op), start, done: node.op.condition === 'completed_successfully' ? 'Exited' : 'Healthy' };
  }
  return { id: resourceId(node.op), start, done };
}
