import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { loadDockerode } from '../engine/docker/load.js';
import type { Project } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { stackPlan, STACK_NAMESPACE, type StackPlan } from './spec.js';
import { checkStack, type ClusterFacts } from './refusals.js';
import { waitConverged, type ConvergeOptions } from './converge.js';
import { streamServiceLogs, type SwarmLogLine, type SwarmLogOptions } from './logs.js';
import { nodeEngines, removeNodeVolumes, retryWhileInUse, volumesByNode } from './node-volumes.js';
import { ensureFileObjects, removeFileObjects, stackFileObjects } from './file-objects.js';
import { byCodeUnits } from '../util/order.js';

/**
 * A project deployed to a Docker Swarm as a stack, through the manager that
 * DOCKER_HOST names (dockerode reads it): `up` checks the plan against the
 * cluster first and creates nothing when it is refused; `ps` lists the tasks;
 * `down` removes what carries the stack's namespace label.
 */

export interface SwarmTask {
  service: string;
  slot?: number;
  node: string;
  desired: string;
  state: string;
  error?: string;
}

export interface SwarmUpResult {
  created: string[];
  updated: string[];
  warnings: string[];
  /** The IDs of the services written (none in a dry run), for `converge`. */
  serviceIds: string[];
  /** `config NAME` / `secret NAME`: the stack's objects no service uses any more (content changed), removed. */
  retired: string[];
}

export class SwarmStack {
  private readonly docker: Dockerode;

  /**
   * A client of the manager DOCKER_HOST names (dockerode reads it), or `docker`. Loaded as the
   * docker backend loads it (engine/docker/load.ts), without the BuildKit and ssh modules a
   * swarm never uses.
   */
  constructor(docker?: Dockerode) {
    this.docker = docker ?? new (loadDockerode())();
  }

  /** The manager's cluster facts the refusals need. */
  async facts(project: Project): Promise<ClusterFacts> {
    const info = await this.docker.info() as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
      throw new UserError('the Docker Engine at DOCKER_HOST is not a swarm manager', 1, 'point DOCKER_HOST (or --host) at a manager node, or run `docker swarm init` there');
    }
    const unpullable = new Map<string, string>();
    const digests = new Map<string, string>();
    const images = new Set(Object.values(project.services).map((s) => s.image).filter((i): i is string => !!i));
    await Promise.all([...images].map(async (ref) => {
      // The manager asks the registry for the manifest, as each node will when it pulls.
      try {
        const d = await this.docker.getImage(ref).distribution() as { Descriptor?: { digest?: string } };
        if (d.Descriptor?.digest) digests.set(ref, d.Descriptor.digest);
      } catch (err) {
        const msg = ((err as { json?: { message?: string } }).json?.message ?? (err as Error).message).split('\n')[0]!;
        unpullable.set(ref, msg);
      }
    }));
    const nodes = (await this.docker.listNodes()).filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active').length;
    return { ipvs: localIpvs(), unpullable, digests, nodes };
  }

  /**
   * Writes the stack's services (the manager then creates or rolls their tasks, as update_config
   * says); `converge` waits for that. With `dryRun`, everything is checked against the cluster and
   * nothing is created or changed.
   */
  async up(project: Project, o: { dryRun?: boolean } = {}): Promise<SwarmUpResult> {
    const facts = await this.facts(project);
    const verdict = checkStack(project, facts);
    if (verdict.refusals.length) {
      throw new UserError(`the stack "${project.name}" cannot be deployed to this swarm; nothing was created:\n${verdict.refusals.map((r) => `  - ${r}`).join('\n')}`);
    }
    const fileObjects = stackFileObjects(project);
    const refs = await ensureFileObjects(this.docker, fileObjects, o);
    const plan = stackPlan(project, facts.digests, refs);
    if (!o.dryRun) await this.ensureNetworks(plan);
    const existing = new Map((await this.services(plan.namespace)).map((s) => [s.Spec?.Name ?? '', s]));
    const created: string[] = [];
    const updated: string[] = [];
    for (const svc of plan.services) (existing.has(svc.name) ? updated : created).push(svc.name);
    // All at once: the services are independent to the manager (Swarm has no start order), and
    // their tasks get scheduled together rather than one service's after another's.
    const serviceIds = o.dryRun ? [] : await Promise.all(plan.services.map(async (svc) => {
      const found = existing.get(svc.name);
      if (!found) return (await this.docker.createService(svc.spec)).id as string;
      await this.docker.getService(found.ID).update({ ...svc.spec, version: found.Version?.Index });
      return found.ID;
    }));
    // The configs and secrets whose content changed were replaced by new ones in the specs just written.
    const retired = o.dryRun ? [] : await removeFileObjects(this.docker, plan.namespace, new Set([...refs.values()].map((r) => r.id)));
    return { created, updated, warnings: verdict.warnings, serviceIds, retired };
  }

  /**
   * Waits until the swarm runs the services `up` wrote as written: their rolling updates done,
   * every task on the current spec and running; fails with the swarm's reason when an update was
   * paused or rolled back, and with what is missing at the timeout.
   */
  async converge(serviceIds: readonly string[], o: ConvergeOptions): Promise<void> {
    await waitConverged(this.docker, serviceIds, o);
  }

  async ps(namespace: string): Promise<SwarmTask[]> {
    const [services, nodes] = await Promise.all([this.services(namespace), this.docker.listNodes()]);
    const serviceName = new Map(services.map((s) => [s.ID, s.Spec?.Name ?? s.ID]));
    const nodeName = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
    const tasks = await this.docker.listTasks({ filters: JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] }) });
    return tasks.map((t) => ({
      service: serviceName.get(t.ServiceID ?? '') ?? t.ServiceID ?? '',
      ...(t.Slot !== undefined ? { slot: t.Slot } : {}),
      node: nodeName.get(t.NodeID ?? '') ?? '',
      desired: t.DesiredState ?? '',
      state: t.Status?.State ?? '',
      ...(t.Status?.Err ? { error: t.Status.Err } : {}),
    })).sort((a, b) => byCodeUnits(a.service, b.service) || (a.slot ?? 0) - (b.slot ?? 0));
  }

  /**
   * Removes the stack's services, then its networks (once no task holds them), configs and secrets;
   * with `volumes`, its volumes on the manager and on every node in `nodes` (node-volumes.ts), and
   * says which volumes stay on nodes it could not reach.
   */
  async down(namespace: string, o: { volumes?: boolean; nodeHosts?: readonly string[] } = {}): Promise<{ removed: string[]; left: string[] }> {
    const removed: string[] = [];
    const engines = nodeEngines(o.nodeHosts ?? []); // a bad address is refused before anything goes
    const held = o.volumes ? await volumesByNode(this.docker, namespace) : new Map<string, Set<string>>();
    for (const s of await this.services(namespace)) {
      await this.docker.getService(s.ID).remove();
      removed.push(`service ${s.Spec?.Name}`);
    }
    const filters = JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] });
    for (const n of await this.docker.listNetworks({ filters })) {
      await retryWhileInUse(() => this.docker.getNetwork(n.Id).remove());
      removed.push(`network ${n.Name}`);
    }
    removed.push(...await removeFileObjects(this.docker, namespace, new Set()));
    // The manager removes a network once its tasks' endpoints are gone on every node: wait for
    // that, so that an `up` right after does not find the old one and attach to it.
    for (let i = 0; (await this.docker.listNetworks({ filters })).length && i < 120; i++) await sleep(250);
    if (!o.volumes) return { removed, left: [] };
    const volumes = await removeNodeVolumes(this.docker, namespace, held, engines);
    return { removed: [...removed, ...volumes.removed], left: volumes.left };
  }

  /** Sets replicated services' replica counts (service names without the stack's prefix); returns their IDs, for `converge`. */
  async scale(namespace: string, replicas: Readonly<Record<string, number>>): Promise<string[]> {
    const byName = new Map((await this.services(namespace)).map((s) => [s.Spec?.Name ?? '', s]));
    const targets = Object.entries(replicas).map(([name, n]) => {
      const svc = byName.get(`${namespace}_${name}`);
      if (!svc) throw new UserError(`no service "${name}" in the stack "${namespace}" on this swarm`, 1, `deploy it first with \`tscompose --backend swarm up\`; the stack has ${[...byName.keys()].map((k) => k.slice(namespace.length + 1)).join(', ') || 'no services'}`);
      if (!svc.Spec?.Mode?.Replicated) throw new UserError(`service "${name}" runs in global mode (one task per node): it cannot be scaled`, 1, 'set deploy.mode: replicated to give it a number of replicas');
      return { svc, n };
    });
    return Promise.all(targets.map(async ({ svc, n }) => {
      const spec = { ...svc.Spec, Mode: { Replicated: { Replicas: n } } };
      await this.docker.getService(svc.ID).update({ ...spec, version: svc.Version?.Index });
      return svc.ID;
    }));
  }

  /** The stack's logs across its nodes (all services, or those named without the stack's prefix). */
  async logs(namespace: string, services: readonly string[], o: SwarmLogOptions, onLine: (l: SwarmLogLine) => void): Promise<void> {
    const all = (await this.services(namespace)).map((s) => ({ id: s.ID, name: s.Spec?.Name ?? s.ID, tty: !!(s.Spec?.TaskTemplate as { ContainerSpec?: { TTY?: boolean } } | undefined)?.ContainerSpec?.TTY }));
    const unknown = services.filter((n) => !all.some((s) => s.name === `${namespace}_${n}`));
    if (unknown.length) throw new UserError(`no service ${unknown.map((u) => `"${u}"`).join(', ')} in the stack "${namespace}" on this swarm`, 1, `its services: ${all.map((s) => s.name.slice(namespace.length + 1)).join(', ') || 'none'}`);
    const chosen = services.length ? all.filter((s) => services.some((n) => s.name === `${namespace}_${n}`)) : all;
    await streamServiceLogs(this.docker, chosen, o, onLine);
  }

  private async services(namespace: string) {
    return this.docker.listServices({ filters: JSON.stringify({ label: [`${STACK_NAMESPACE}=${namespace}`] }) });
  }

  private async ensureNetworks(plan: StackPlan): Promise<void> {
    const have = new Set((await this.docker.listNetworks()).map((n) => n.Name));
    for (const net of plan.networks) {
      if (have.has(net.name)) continue;
      if (net.external) throw new UserError(`network "${net.name}" is external and does not exist on the swarm`, 1, `create it first: docker network create -d overlay ${net.name}`);
      await this.docker.createNetwork({ ...net.spec, CheckDuplicate: true });
    }
  }
}

/**
 * Whether this machine's kernel has IPVS: right when the manager runs here
 * (a unix socket), which is what we can see; a remote cluster is trusted.
 */
function localIpvs(): boolean {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) return true;
  return existsSync('/proc/net/ip_vs');
}
