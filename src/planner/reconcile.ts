import type { Project, ServiceConfig } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { containerRequest } from './container-request.js';
import { decideService, type ContainerDecision, type RecreatePolicy, type ServiceDecision } from './decide.js';
import { Label, containerName, replacementName } from './labels.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import { dependencyOrder, withDependencies } from './order.js';
import { PlanBuilder, type ContainerRef, type Plan, type WaitCondition } from './plan.js';
import { ResourcePlanner } from './reconcile-resources.js';
import { inheritAnonymousVolumes } from './inherit.js';

export type { RecreatePolicy } from './decide.js';

export interface ReconcileOptions {
  /** Services named on the command line; empty or absent: all. */
  services?: string[];
  /** Leave the named services' dependencies alone (`--no-deps`). */
  noDeps?: boolean;
  /** For the named services (`--force-recreate`, `--no-recreate`). */
  recreate?: RecreatePolicy;
  /** For their dependencies (Compose: `diverged`, or `force` with `--always-recreate-deps`). */
  recreateDependencies?: RecreatePolicy;
  removeOrphans?: boolean;
  /** COMPOSE_IGNORE_ORPHANS: orphans are neither removed nor warned about. */
  ignoreOrphans?: boolean;
  /**
   * `--yes`: Compose's answer "yes" to its only question in up and create,
   * "recreate a volume whose configuration changed (data will be lost)?";
   * tscompose does not recreate volumes, so that case is refused.
   */
  assumeYes?: boolean;
  /** `--all-resources`: every declared network and volume is made, not only those the services use. */
  allResources?: boolean;
  /** `--scale svc=n`, over `scale:` / `deploy.replicas`. */
  scale?: Record<string, number>;
  /** false: create only (`create`, `up --no-start`). */
  start?: boolean;
  /** Stop timeout in seconds (`-t`); absent: each container's own. */
  timeout?: number;
  /** `up --wait`: end with a wait until every started container runs (and is healthy, if it has a check). */
  wait?: boolean;
  waitTimeoutMs?: number;
  /** `-V`: recreated containers get fresh anonymous volumes instead of inheriting the old ones. */
  renewAnonVolumes?: boolean;
  /**
   * `start`: only start the containers that exist (in dependency order, with
   * the dependencies' conditions); create, recreate and remove nothing.
   */
  onlyExisting?: boolean;
  /**
   * Services whose networks and volumes must exist but whose containers are
   * left alone (`run` makes its own one-off container).
   */
  infraOnly?: string[];
}

/** What the plan did to a service's containers, for the dependents planned after it. */
interface ServiceOutcome {
  /** Every container the service will have, with the node after which it runs (if the plan starts it). */
  containers: { ref: ContainerRef; number: number; startNode?: number; readyNode?: number }[];
  /** Nodes after which the service's containers exist under their final names. */
  createdNodes: number[];
  /** Start (or unpause) nodes of this plan. */
  startNodes: number[];
  recreated: boolean;
  /** Some container is (re)started by this plan. */
  started: boolean;
}

/**
 * reconcile(project, observed, options) → Plan: pure. Compares the Project
 * with what the engine holds and plans the single operations that make the
 * two agree, each with its reason, as Compose v2's reconciler does (networks,
 * volumes, then services in dependency order), extended with the start and
 * wait operations Compose runs in a separate phase: one plan is all of `up`.
 */
export function reconcile(project: Project, observed: ObservedState, options: ReconcileOptions = {}): Plan {
  return new Reconciler(project, observed, options).run();
}

class Reconciler {
  private readonly b = new PlanBuilder();
  private readonly resources: ResourcePlanner;
  private readonly decisions = new Map<string, ServiceDecision>();
  private readonly outcomes = new Map<string, ServiceOutcome>();
  /** Containers an earlier part of the plan stops: id → stop node. */
  private readonly stopped = new Map<string, number>();
  /** Reconnect nodes of containers whose network is recreated: id → nodes. */
  private readonly reconnected = new Map<string, number[]>();
  private readonly waits = new Map<string, number[]>();
  private readonly selected: Set<string>;
  private readonly targeted: Set<string>;
  private readonly order: string[];

  constructor(
    private readonly project: Project,
    private readonly observed: ObservedState,
    private readonly options: ReconcileOptions,
  ) {
    const deps = serviceDeps(project);
    const { targeted, selected } = selectServices(project, options);
    this.targeted = new Set(targeted);
    this.selected = selected;
    const selectedDeps: Record<string, string[]> = {};
    for (const s of this.selected) selectedDeps[s] = deps[s]!;
    this.order = dependencyOrder(selectedDeps);
    this.resources = new ResourcePlanner(project, observed, this.b, this.usedResources(), !!this.options.assumeYes);
  }

  run(): Plan {
    this.checkDependencies();
    for (const name of this.order) this.decisions.set(name, this.decide(name));
    const recreatedIds = new Set<string>();
    const removedIds = new Set<string>();
    for (const d of this.decisions.values()) {
      for (const c of d.containers) if (c.action === 'recreate') recreatedIds.add(c.existing!.id);
      for (const x of d.extras) removedIds.add(x.container.id);
    }
    if (!this.options.onlyExisting) {
      this.resources.planNetworks(this.allProjectContainers(), (id) => recreatedIds.has(id) || removedIds.has(id), this.stopped, this.reconnected, this.options.timeout);
      this.resources.planVolumes();
    }
    for (const name of this.order) this.planService(this.project.services[name]!, this.decisions.get(name)!);
    if (!this.options.onlyExisting) this.planOrphans();
    return this.b.build();
  }

  private usedResources(): { networks: Set<string>; volumes: Set<string> } {
    const networks = new Set<string>();
    const volumes = new Set<string>();
    for (const name of [...this.selected, ...(this.options.infraOnly ?? [])]) {
      const s = this.project.services[name]!;
      if (!s.network_mode) {
        const keys = Object.keys(s.networks);
        if (keys.length === 0 && 'default' in this.project.networks) networks.add('default');
        for (const k of keys) networks.add(k);
      }
      for (const v of s.volumes) if (v.type === 'volume' && v.source) volumes.add(v.source);
    }
    if (this.options.allResources) {
      for (const k of Object.keys(this.project.networks)) networks.add(k);
      for (const k of Object.keys(this.project.volumes)) volumes.add(k);
    }
    return { networks, volumes };
  }

  private checkDependencies(): void {
    for (const name of this.selected) {
      const s = this.project.services[name]!;
      for (const [dep, d] of Object.entries(s.depends_on)) {
        if (this.project.services[dep] || !d.required) continue;
        const disabled = this.project.disabledServices[dep];
        if (disabled) {
          throw new UserError(`service "${dep}" is required by "${name}" but is disabled`, 1, `enable one of its profiles (${disabled.profiles.join(', ')}) with --profile, or mark the dependency required: false`);
        }
        throw new UserError(`service "${name}" depends on undefined service "${dep}"`);
      }
    }
  }

  private decide(name: string): ServiceDecision {
    const service = this.project.services[name]!;
    const existing = this.options.onlyExisting;
    const policy = existing ? 'never' : this.targeted.has(name) ? (this.options.recreate ?? 'diverged') : (this.options.recreateDependencies ?? 'diverged');
    const parents = namespaceParents(service).filter((p) => this.decisions.get(p)?.recreated);
    const count = new Set((this.observed.containers[name] ?? []).map((c) => c.number)).size;
    return decideService({
      project: this.project,
      service,
      observed: this.observed,
      expected: existing ? count : (this.options.scale?.[name] ?? service.scale ?? 1),
      policy,
      recreatedParents: parents,
      resolvedNetworkIds: this.resources.expectedNetworkIds(),
      isJob: this.isJob(name),
      start: this.options.start !== false,
    });
  }

  /** A service another one waits on with service_completed_successfully: its exit 0 is its success. */
  private isJob(name: string): boolean {
    return Object.values(this.project.services).some((s) => s.depends_on[name]?.condition === 'service_completed_successfully');
  }

  private allProjectContainers(): ObservedContainer[] {
    return [...Object.values(this.observed.containers).flat(), ...this.observed.orphans, ...this.observed.oneoffs];
  }

  private planService(service: ServiceConfig, d: ServiceDecision): void {
    const outcome: ServiceOutcome = { containers: [], createdNodes: [], startNodes: [], recreated: d.recreated, started: false };
    this.outcomes.set(service.name, outcome);
    const infra = [...this.resources.infraNodes(service), ...this.parentCreatedNodes(service)];
    const start = this.options.start !== false;
    const timeout = this.options.timeout;

    for (const x of this.options.onlyExisting ? [] : d.extras) {
      const res = `service:${service.name}:${x.container.number}`;
      const ref = { id: x.container.id, name: x.container.name };
      const stop = this.stopped.get(x.container.id) ?? this.b.add({ kind: 'StopContainer', container: ref, timeout }, res, x.reason);
      const remove = this.b.add({ kind: 'RemoveContainer', container: ref, volumes: true }, res, x.reason, [stop, ...(this.reconnected.get(x.container.id) ?? [])]);
      // A duplicate left by an interrupted recreate holds the name the next replacement takes.
      if (x.reason.startsWith('duplicate')) infra.push(remove);
    }

    // Dependents declaring `restart: true` stop before this service is recreated.
    const dependentStops = d.recreated ? this.stopDependents(service.name) : [];

    for (const c of d.containers) {
      const res = `service:${service.name}:${c.number}`;
      const finalName = d.names[c.number]!;
      if (c.action === 'create') {
        const spec = containerRequest(this.project, service, this.observed, { number: c.number, name: finalName, ...d.identity });
        const create = this.b.add({ kind: 'CreateContainer', spec }, res, c.reason, infra);
        outcome.createdNodes.push(create);
        this.pushStart(outcome, { createdBy: create, name: finalName }, c.number, res, 'created', [create], start);
      } else if (c.action === 'recreate') {
        this.planRecreate(service, d, c, finalName, res, [...infra, ...dependentStops], outcome, start);
      } else {
        this.planKeep(service, c, finalName, res, outcome, start);
      }
    }
    // A dependent that keeps running still checks what this plan (re)started for it: a recreated
    // job that now fails, or a dependency that is now unhealthy, fails the `up` as it would at start.
    if (start && !outcome.started) this.readinessNodes(service, true);
  }

  private planRecreate(service: ServiceConfig, d: ServiceDecision, c: ContainerDecision, finalName: string, res: string, deps: number[], outcome: ServiceOutcome, start: boolean): void {
    const old = c.existing!;
    const group = `recreate:${service.name}:${c.number}`;
    const tmpName = replacementName(old.id, finalName);
    let spec = containerRequest(this.project, service, this.observed, {
      number: c.number,
      name: tmpName,
      ...d.identity,
      labels: { [Label.replace]: old.name },
    });
    if (!this.options.renewAnonVolumes) spec = inheritAnonymousVolumes(spec, old, this.observed);
    const oldRef = { id: old.id, name: old.name };
    const earlierStop = this.stopped.get(old.id);
    const create = this.b.add({ kind: 'CreateContainer', spec }, res, c.reason, deps, { group });
    const stop = earlierStop ?? this.b.add({ kind: 'StopContainer', container: oldRef, timeout: this.options.timeout }, res, `replaced by #${create}`, [create], { group });
    const remove = this.b.add({ kind: 'RemoveContainer', container: oldRef, volumes: true }, res, `replaced by #${create}`, [stop, create], { group });
    const rename = this.b.add({ kind: 'RenameContainer', container: { createdBy: create, name: tmpName }, name: finalName }, res, 'finalize recreate', [remove], { group });
    outcome.createdNodes.push(rename);
    this.pushStart(outcome, { createdBy: create, name: finalName }, c.number, res, 'recreated', [rename], start);
  }

  private planKeep(service: ServiceConfig, c: ContainerDecision, finalName: string, res: string, outcome: ServiceOutcome, start: boolean): void {
    const oc = c.existing!;
    let ref: ContainerRef = { id: oc.id, name: finalName };
    const deps: number[] = [];
    if (oc.name !== finalName) {
      const rename = this.b.add({ kind: 'RenameContainer', container: { id: oc.id, name: oc.name }, name: finalName }, res, `named ${oc.name}`, [...this.parentCreatedNodes(service)]);
      outcome.createdNodes.push(rename);
      deps.push(rename);
      ref = { id: oc.id, name: finalName };
    }
    const stopNode = this.stopped.get(oc.id);
    const state = oc.summary.state;
    if (stopNode !== undefined) {
      // Stopped earlier in this plan (a recreated dependency, a recreated network): start it again.
      const why = this.b.node(stopNode).reason;
      this.pushStart(outcome, ref, c.number, res, why, [stopNode, ...deps, ...(this.reconnected.get(oc.id) ?? [])], start || state === 'running');
    } else if (state === 'paused' && start) {
      const node = this.b.add({ kind: 'UnpauseContainer', container: ref }, res, 'paused', deps);
      outcome.startNodes.push(node);
      outcome.started = true;
      outcome.containers.push({ ref, number: c.number, startNode: node });
    } else if (c.needsStart && start) {
      this.pushStart(outcome, ref, c.number, res, 'not running', deps, true);
    } else {
      outcome.containers.push({ ref, number: c.number });
    }
  }

  /** Adds the start of a container (when starting), gated on its dependencies' conditions. */
  private pushStart(outcome: ServiceOutcome, ref: ContainerRef, number: number, res: string, reason: string, deps: number[], start: boolean): void {
    if (!start) {
      outcome.containers.push({ ref, number });
      return;
    }
    const service = this.project.services[res.split(':')[1]!]!;
    const node = this.b.add({ kind: 'StartContainer', container: ref }, res, reason, [...deps, ...this.readinessNodes(service)]);
    outcome.startNodes.push(node);
    outcome.started = true;
    let readyNode: number | undefined;
    if (this.options.wait && this.targeted.has(service.name)) {
      const condition: WaitCondition = this.isJob(service.name) ? 'completed_successfully' : 'running_or_healthy';
      readyNode = this.b.add({ kind: 'WaitContainer', container: ref, condition, timeoutMs: this.options.waitTimeoutMs }, res, `${condition.replace(/_/g, ' ')} (--wait)`, [node]);
    }
    outcome.containers.push({ ref, number, startNode: node, readyNode });
  }

  /** What must be done before a container of `service` starts: each dependency's condition. */
  private readinessNodes(service: ServiceConfig, onlyStarted = false): number[] {
    const out: number[] = [];
    for (const dep of Object.keys(service.depends_on).sort()) {
      const d = service.depends_on[dep]!;
      const o = this.outcomes.get(dep);
      if (!o || !this.selected.has(dep)) continue;
      if (d.condition === 'service_started') {
        if (!onlyStarted) out.push(...o.startNodes);
        continue;
      }
      const condition: WaitCondition = d.condition === 'service_healthy' ? 'healthy' : 'completed_successfully';
      const key = `${dep}|${condition}|${d.required}|${onlyStarted}`;
      let nodes = this.waits.get(key);
      if (!nodes) {
        const targets = onlyStarted ? o.containers.filter((c) => c.startNode !== undefined) : o.containers;
        nodes = targets.map((c) =>
          this.b.add({ kind: 'WaitContainer', container: c.ref, condition, timeoutMs: this.options.waitTimeoutMs }, `service:${dep}:${c.number}`, `${condition.replace(/_/g, ' ')}, for ${service.name}`, [c.startNode], { optional: !d.required }),
        );
        this.waits.set(key, nodes);
      }
      out.push(...nodes);
    }
    return out;
  }

  /** network_mode/ipc/pid `service:x` and volumes_from x need x's containers under their final names. */
  private parentCreatedNodes(service: ServiceConfig): number[] {
    return namespaceParents(service).flatMap((p) => this.outcomes.get(p)?.createdNodes ?? []);
  }

  private stopDependents(name: string): number[] {
    const out: number[] = [];
    for (const other of Object.keys(this.project.services).sort()) {
      if (!this.project.services[other]!.depends_on[name]?.restart) continue;
      for (const oc of this.observed.containers[other] ?? []) {
        if (oc.summary.state !== 'running' || this.stopped.has(oc.id)) continue;
        const node = this.b.add({ kind: 'StopContainer', container: { id: oc.id, name: oc.name }, timeout: this.options.timeout }, `service:${other}:${oc.number}`, `dependency ${name} recreated`);
        this.stopped.set(oc.id, node);
        out.push(node);
      }
    }
    return out;
  }

  private planOrphans(): void {
    if (!this.observed.orphans.length || this.options.ignoreOrphans) return;
    if (!this.options.removeOrphans) {
      const names = this.observed.orphans.map((o) => o.name).join(', ');
      this.b.warnings.push(
        `Found orphan containers ([${names}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
      );
      return;
    }
    for (const o of this.observed.orphans) {
      const ref = { id: o.id, name: o.name };
      const res = `orphan:${o.name}`;
      const stop = this.stopped.get(o.id) ?? this.b.add({ kind: 'StopContainer', container: ref, timeout: this.options.timeout }, res, 'orphan');
      this.b.add({ kind: 'RemoveContainer', container: ref, volumes: true }, res, 'orphan', [stop, ...(this.reconnected.get(o.id) ?? [])]);
    }
  }
}

/** Every name must be an enabled service; a disabled one says which profile enables it. */
/**
 * The services a verb acts on: those it names (all when it names none, none
 * when it only prepares another's infrastructure), with their dependencies
 * unless `noDeps`. Unknown and disabled names are errors that say so.
 */
export function selectServices(project: Project, o: Pick<ReconcileOptions, 'services' | 'noDeps' | 'infraOnly'>): { targeted: string[]; selected: Set<string> } {
  const targeted = o.services?.length ? o.services : o.infraOnly?.length ? [] : Object.keys(project.services);
  checkServices(project, [...targeted, ...(o.infraOnly ?? [])]);
  return { targeted, selected: o.noDeps ? new Set(targeted) : withDependencies(targeted, serviceDeps(project)) };
}

export function checkServices(project: Project, names: string[]): void {
  for (const s of names) {
    if (project.services[s]) continue;
    const disabled = project.disabledServices[s];
    if (disabled) throw new UserError(`service "${s}" is disabled by its profiles`, 1, `enable one of its profiles (${disabled.profiles.join(', ')}) with --profile`);
    throw new UserError(`no such service: ${s}`);
  }
}

/** Each service's dependencies: depends_on (implicit ones included by the loader). */
export function serviceDeps(project: Project): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(project.services)) {
    out[name] = [...new Set([...Object.keys(s.depends_on), ...namespaceParents(s)])].filter((d) => d in project.services);
  }
  return out;
}

/** Services whose containers this one shares a namespace or volumes with. */
export function namespaceParents(service: ServiceConfig): string[] {
  const out: string[] = [];
  for (const mode of [service.network_mode, service.ipc, service.pid]) {
    if (mode?.startsWith('service:')) out.push(mode.slice('service:'.length));
  }
  for (const v of service.volumes_from) if (!v.startsWith('container:')) out.push(v.split(':')[0]!);
  return [...new Set(out)];
}

export { containerName };
