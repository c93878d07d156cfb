import { randomBytes } from 'node:crypto';
import type { ContainerCreateRequest, Engine, MountRequest, PortMapping, ProcessIO } from '../engine/types.js';
import type { Project } from '../project/types.js';
import { enableServices } from '../project/profiles.js';
import { containerRequest } from '../planner/container-request.js';
import { serviceImage } from '../planner/decide.js';
import { Label, oneoffContainerName } from '../planner/labels.js';
import { observe, imageRef } from '../planner/observe.js';
import { withDependencies } from '../planner/order.js';
import { checkServices, serviceDeps } from '../planner/reconcile.js';
import { converge, type Converged } from './converge.js';
import { Reporter, type ComposeListener } from './progress.js';
import { runContainer, type ProcessIOProvider, type RunningContainer } from './run-container.js';

export interface RunOptions {
  service: string;
  /** The command, instead of the service's. */
  command?: string[];
  /** The entrypoint, instead of the service's ([] clears it). */
  entrypoint?: string[];
  /** The container's name (default: `<project>-<service>-run-<slug>`). */
  name?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  user?: string;
  workingDir?: string;
  /** Start the service's dependencies first (default true). */
  deps?: boolean;
  /** Remove the container once it has exited. */
  rm?: boolean;
  /** Ports to publish (`-p`); with servicePorts the service's own too. */
  publish?: PortMapping[];
  servicePorts?: boolean;
  /** The service's network aliases on its networks (default: only the container's name). */
  useAliases?: boolean;
  /** Extra mounts (`-v`). */
  volumes?: MountRequest[];
  capAdd?: string[];
  capDrop?: string[];
  tty?: boolean;
  /** Keep stdin open (foreground runs). */
  interactive?: boolean;
  /** Start it and return its name; else run it in the foreground with `io` (or the streams it provides). */
  detach?: boolean;
  io?: ProcessIO | ProcessIOProvider;
  onStart?: (c: RunningContainer) => void;
  build?: boolean;
  pull?: 'always' | 'missing' | 'never';
  quietPull?: boolean;
  removeOrphans?: boolean;
  /** COMPOSE_IGNORE_ORPHANS: orphans neither warned about nor removed. */
  ignoreOrphans?: boolean;
  dryRun?: boolean;
}

export interface RunResult {
  /** The dependencies' convergence (under dryRun: its plan). */
  dependencies: Converged;
  container: { id?: string; name: string };
  /** The one-off's exit code (0 when detached or under dryRun). */
  exitCode: number;
}

/**
 * `run`: a one-off container of a service, with the service's
 * configuration under the options given; its dependencies (unless `deps:
 * false`) and its networks and volumes are brought up first.
 */
export async function run(engine: Engine, project: Project, o: RunOptions, listener?: ComposeListener): Promise<RunResult> {
  const target = enableServices(project, [o.service]);
  checkServices(target, [o.service]);
  const deps = o.deps === false ? [] : [...withDependencies([o.service], serviceDeps(target))].filter((s) => s !== o.service);
  const dependencies = await converge(
    engine,
    target,
    { services: deps, infraOnly: [o.service], noDeps: true, start: true, removeOrphans: o.removeOrphans, ignoreOrphans: o.ignoreOrphans, build: o.build, pull: o.pull, quietPull: o.quietPull, dryRun: o.dryRun },
    new Reporter(listener),
    'Running',
  );
  const observed = await observe(engine, target.name, target);
  const slug = randomBytes(16).toString('hex');
  const name = o.name ?? oneoffContainerName(target.name, o.service, slug);
  const image = o.dryRun ? observed.images[imageRef(target, o.service)] : serviceImage(target, observed, o.service);
  const base = containerRequest(target, target.services[o.service]!, observed, {
    number: 1,
    name,
    configHash: '',
    fieldDigests: '',
    imageId: image?.id ?? '',
    oneoff: true,
    labels: { [Label.slug]: slug, ...(o.labels ?? {}) },
  });
  const interactive = o.interactive !== false && !o.detach;
  const request: ContainerCreateRequest = {
    ...base,
    cmd: o.command ?? base.cmd,
    entrypoint: o.entrypoint ?? base.entrypoint,
    env: { ...base.env, ...(o.env ?? {}) },
    user: o.user ?? base.user,
    workingDir: o.workingDir ?? base.workingDir,
    ports: [...(o.servicePorts ? (base.ports ?? []) : []), ...(o.publish ?? [])],
    mounts: [...(base.mounts ?? []), ...(o.volumes ?? [])],
    networks: o.useAliases ? base.networks : base.networks?.map((n) => ({ ...n, aliases: [name] })),
    restart: undefined,
    tty: (o.tty ?? false) && !o.detach,
    openStdin: interactive,
    stdinOnce: interactive,
    capAdd: [...(base.capAdd ?? []), ...(o.capAdd ?? [])],
    capDrop: [...(base.capDrop ?? []), ...(o.capDrop ?? [])],
    autoRemove: o.rm && o.detach,
  };
  if (o.dryRun) return { dependencies, container: { name }, exitCode: 0 };
  const { id, exitCode } = await runContainer(engine, request, { detach: o.detach, io: o.io, rm: o.rm && !o.detach, onStart: o.onStart });
  return { dependencies, container: { id, name }, exitCode };
}
