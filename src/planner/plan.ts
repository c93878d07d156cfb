import type { NamedContainerRequest, NetworkAttachment, NetworkCreateRequest, VolumeCreateRequest } from '../engine/types.js';

/**
 * A Plan is a DAG of single engine operations, each with the reason it is
 * needed. The reconciler makes every decision; the executor only runs each
 * operation once its parents are done. Its text form is what golden tests
 * compare and what `--dry-run` prints:
 *
 *     #3 service:web:1 CreateContainer (no container) <- #1,#2
 */

/**
 * A container an operation acts on: one that exists (by id), or the one a
 * CreateContainer operation of the same plan makes (its id is known only
 * when that operation has run). `name` is for people.
 */
export type ContainerRef = { id: string; name: string } | { createdBy: number; name: string };

export type WaitCondition =
  /** Running, and healthy if it has a healthcheck (`up --wait`). */
  | 'running_or_healthy'
  | 'healthy'
  | 'completed_successfully';

export type Operation =
  | { kind: 'CreateNetwork'; spec: NetworkCreateRequest }
  | { kind: 'RemoveNetwork'; name: string }
  | { kind: 'ConnectNetwork'; network: string; container: ContainerRef; attachment: Omit<NetworkAttachment, 'network'> }
  | { kind: 'DisconnectNetwork'; network: string; container: ContainerRef }
  | { kind: 'CreateVolume'; spec: VolumeCreateRequest & { name: string } }
  | { kind: 'RemoveVolume'; name: string }
  | { kind: 'CreateContainer'; spec: NamedContainerRequest }
  | { kind: 'StartContainer'; container: ContainerRef }
  /** thenRemove: a RemoveContainer of the same container follows (StopOptions.thenRemove). */
  | { kind: 'StopContainer'; container: ContainerRef; timeout?: number; thenRemove?: boolean }
  | { kind: 'KillContainer'; container: ContainerRef; signal: string }
  | { kind: 'RestartContainer'; container: ContainerRef; timeout?: number }
  | { kind: 'PauseContainer'; container: ContainerRef }
  | { kind: 'UnpauseContainer'; container: ContainerRef }
  | { kind: 'RemoveContainer'; container: ContainerRef; volumes: boolean; force?: boolean }
  | { kind: 'RenameContainer'; container: ContainerRef; name: string }
  | { kind: 'WaitContainer'; container: ContainerRef; condition: WaitCondition; timeoutMs?: number }
  | { kind: 'RemoveImage'; ref: string };

export type OperationKind = Operation['kind'];

export interface PlanNode {
  id: number;
  op: Operation;
  /** What the operation is about: `service:web:1`, `network:default`, `volume:data`, `orphan:<name>`, `image:<ref>`. */
  resource: string;
  reason: string;
  deps: number[];
  /**
   * A failure is a warning, not an error, and does not stop dependents
   * (`depends_on.required: false`).
   */
  optional?: boolean;
  /** Operations shown as one line of progress (the four steps of a recreate). */
  group?: string;
}

export interface Plan {
  nodes: PlanNode[];
  /** Things the user should know that change nothing (orphans kept, a diverged volume kept). */
  warnings: string[];
}

export class PlanBuilder {
  readonly nodes: PlanNode[] = [];
  readonly warnings: string[] = [];

  add(op: Operation, resource: string, reason: string, deps: (number | undefined)[] = [], extra: { optional?: boolean; group?: string } = {}): number {
    const id = this.nodes.length + 1;
    const unique = [...new Set(deps.filter((d): d is number => d !== undefined))].sort((a, b) => a - b);
    this.nodes.push({ id, op, resource, reason, deps: unique, ...extra });
    return id;
  }

  node(id: number): PlanNode {
    return this.nodes[id - 1]!;
  }

  build(): Plan {
    return { nodes: this.nodes, warnings: this.warnings };
  }
}

export function isEmpty(plan: Plan): boolean {
  return plan.nodes.length === 0;
}

export function formatNode(n: PlanNode): string {
  const deps = n.deps.length ? ` <- ${n.deps.map((d) => `#${d}`).join(',')}` : '';
  const opt = n.optional ? ' [optional]' : '';
  return `#${n.id} ${n.resource} ${n.op.kind} (${n.reason})${opt}${deps}`;
}

/** The plan as text, one operation a line, then its warnings. */
export function formatPlan(plan: Plan): string {
  const lines = plan.nodes.map(formatNode);
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The name people know a container by (the final name, for a replacement still under its temporary one). */
export function refName(ref: ContainerRef): string {
  return ref.name;
}
