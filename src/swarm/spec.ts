import type { Project, ServiceConfig, NetworkConfig } from '../project/types.js';

/**
 * The project as a Swarm stack: the service and network specs the Docker
 * Engine API takes (POST /services/create, /networks/create), with the labels
 * `docker stack deploy` puts, so that `docker stack ps NAME` and our `ps` see
 * the same stack. Pure: no cluster is asked here.
 */

export const STACK_NAMESPACE = 'com.docker.stack.namespace';
export const STACK_IMAGE = 'com.docker.stack.image';

const NS = 1_000_000;

export type FileObjectKind = 'config' | 'secret';

/** A config or secret on the swarm (file-objects.ts), as a service's spec refers to it. */
export interface FileObjectRef { id: string; name: string }

export const objectKey = (kind: FileObjectKind, key: string) => `${kind}:${key}`; // the API's durations are nanoseconds; the project's are milliseconds

export interface StackNetwork {
  /** The full name, as the project names it (`<project>_<key>` unless `name:` says otherwise). */
  name: string;
  external: boolean;
  spec: { Name: string; Driver: string; Attachable: boolean; Internal: boolean; Labels: Record<string, string>; Options: Record<string, string> };
}

export interface StackVolume {
  name: string;
  external: boolean;
}

export interface StackService {
  name: string;
  spec: Record<string, unknown>;
}

export interface StackPlan {
  namespace: string;
  networks: StackNetwork[];
  volumes: StackVolume[];
  services: StackService[];
}

/**
 * `digests`: the registry's digest per image, pinned as `docker stack deploy` pins it (ref@digest);
 * `objects`: the swarm's configs and secrets the services use, by `objectKey`.
 */
export function stackPlan(project: Project, digests: ReadonlyMap<string, string> = new Map(), objects: ReadonlyMap<string, FileObjectRef> = new Map()): StackPlan {
  const namespace = project.name;
  const networks = new Map<string, StackNetwork>();
  const volumes = new Map<string, StackVolume>();
  const services = Object.values(project.services).map((svc) => {
    for (const key of serviceNetworkKeys(svc)) {
      const net = project.networks[key];
      const name = net?.name ?? `${namespace}_${key}`;
      if (!networks.has(key)) networks.set(key, stackNetwork(namespace, name, net));
    }
    for (const v of svc.volumes) {
      if (v.type !== 'volume' || !v.source) continue;
      const vol = project.volumes[v.source];
      volumes.set(v.source, { name: vol?.name ?? `${namespace}_${v.source}`, external: !!vol?.external });
    }
    return { name: `${namespace}_${svc.name}`, spec: serviceSpec(project, svc, digests.get(svc.image ?? ''), objects) };
  });
  return { namespace, networks: [...networks.values()], volumes: [...volumes.values()], services };
}

export function serviceNetworkKeys(svc: ServiceConfig): string[] {
  const keys = Object.keys(svc.networks);
  return keys.length ? keys : ['default'];
}

function stackNetwork(namespace: string, name: string, net: NetworkConfig | undefined): StackNetwork {
  return {
    name,
    external: !!net?.external,
    spec: {
      Name: name,
      Driver: net?.driver ?? 'overlay',
      Attachable: !!net?.attachable,
      Internal: !!net?.internal,
      Labels: { ...(net?.labels ?? {}), [STACK_NAMESPACE]: namespace },
      Options: { ...(net?.driver_opts ?? {}) },
    },
  };
}

function serviceSpec(project: Project, svc: ServiceConfig, digest: string | undefined, objects: ReadonlyMap<string, FileObjectRef>): Record<string, unknown> {
  const namespace = project.name;
  const deploy = svc.deploy;
  const image = svc.image ?? '';
  const env = Object.entries(svc.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).sort();
  const mounts = svc.volumes.flatMap((v): Record<string, unknown>[] => {
    if (v.type === 'volume') {
      const vol = v.source ? project.volumes[v.source] : undefined;
      return [{
        Type: 'volume', Target: v.target, ReadOnly: v.read_only,
        ...(v.source ? { Source: vol?.name ?? `${namespace}_${v.source}` } : {}),
        VolumeOptions: {
          Labels: { ...(v.volume?.labels ?? {}), [STACK_NAMESPACE]: namespace },
          NoCopy: !!v.volume?.nocopy,
          ...(vol?.driver || Object.keys(vol?.driver_opts ?? {}).length
            ? { DriverConfig: { Name: vol?.driver ?? 'local', Options: vol?.driver_opts ?? {} } } : {}),
        },
      }];
    }
    if (v.type === 'tmpfs') return [{ Type: 'tmpfs', Target: v.target, ...(v.tmpfs?.size ? { TmpfsOptions: { SizeBytes: v.tmpfs.size } } : {}) }];
    return []; // binds are refused before deploying (refusals.ts)
  });
  const hc = svc.healthcheck;
  const containerSpec: Record<string, unknown> = {
    Image: digest && !image.includes('@') ? `${image}@${digest}` : image,
    Labels: { ...svc.labels, [STACK_NAMESPACE]: namespace },
    ...(svc.command ? { Args: svc.command } : {}),
    ...(svc.entrypoint ? { Command: svc.entrypoint } : {}),
    ...(env.length ? { Env: env } : {}),
    ...(svc.working_dir ? { Dir: svc.working_dir } : {}),
    ...(svc.user ? { User: svc.user } : {}),
    ...(svc.hostname ? { Hostname: svc.hostname } : {}),
    ...(svc.stop_grace_period !== undefined ? { StopGracePeriod: svc.stop_grace_period * NS } : {}),
    ...(svc.stop_signal ? { StopSignal: svc.stop_signal } : {}),
    ...(svc.init !== undefined ? { Init: svc.init } : {}),
    ...(svc.read_only ? { ReadOnly: true } : {}),
    ...(svc.tty ? { TTY: true } : {}),
    ...(mounts.length ? { Mounts: mounts } : {}),
    ...fileReferences(svc, objects),
    ...(hc ? {
      Healthcheck: hc.disable ? { Test: ['NONE'] } : {
        Test: hc.test,
        ...(hc.interval !== undefined ? { Interval: hc.interval * NS } : {}),
        ...(hc.timeout !== undefined ? { Timeout: hc.timeout * NS } : {}),
        ...(hc.retries !== undefined ? { Retries: hc.retries } : {}),
        ...(hc.start_period !== undefined ? { StartPeriod: hc.start_period * NS } : {}),
      },
    } : {}),
  };
  const res = deploy?.resources;
  const resources = (r: { cpus?: number; memory?: number; pids?: number } | undefined) => r ? {
    ...(r.cpus !== undefined ? { NanoCPUs: Math.round(r.cpus * 1e9) } : {}),
    ...(r.memory !== undefined ? { MemoryBytes: r.memory } : {}),
    ...(r.pids !== undefined ? { Pids: r.pids } : {}),
  } : undefined;
  const rp = deploy?.restart_policy;
  const placement = deploy?.placement;
  const global = deploy?.mode === 'global';
  const endpointMode = deploy?.endpoint_mode ?? 'vip';
  const ports = svc.ports.map((p) => ({
    Protocol: p.protocol, TargetPort: p.target,
    ...(p.published ? { PublishedPort: Number(p.published) } : {}),
    PublishMode: p.mode === 'host' ? 'host' : 'ingress',
  }));
  return {
    Name: `${namespace}_${svc.name}`,
    Labels: { ...(deploy?.labels ?? {}), [STACK_IMAGE]: image, [STACK_NAMESPACE]: namespace },
    TaskTemplate: {
      ContainerSpec: containerSpec,
      // Only what the file sets, as docker stack deploy writes it (no empty Limits or Reservations).
      Resources: {
        ...(res?.limits ? { Limits: resources(res.limits) } : {}),
        ...(res?.reservations ? { Reservations: resources(res.reservations) } : {}),
      },
      ...(rp ? {
        RestartPolicy: {
          ...(rp.condition ? { Condition: rp.condition } : {}),
          ...(rp.delay !== undefined ? { Delay: rp.delay * NS } : {}),
          ...(rp.max_attempts !== undefined ? { MaxAttempts: rp.max_attempts } : {}),
          ...(rp.window !== undefined ? { Window: rp.window * NS } : {}),
        },
      } : {}),
      Placement: {
        ...(placement?.constraints ? { Constraints: placement.constraints } : {}),
        ...(placement?.preferences ? { Preferences: placement.preferences.filter((p) => p.spread).map((p) => ({ Spread: { SpreadDescriptor: p.spread } })) } : {}),
        ...(placement?.max_replicas_per_node !== undefined ? { MaxReplicas: placement.max_replicas_per_node } : {}),
      },
      Networks: serviceNetworkKeys(svc).map((key) => ({
        Target: project.networks[key]?.name ?? `${namespace}_${key}`,
        Aliases: [svc.name, ...(svc.networks[key]?.aliases ?? [])],
      })),
    },
    Mode: global ? { Global: {} } : { Replicated: { Replicas: deploy?.replicas ?? svc.scale ?? 1 } },
    ...(deploy?.update_config ? { UpdateConfig: updateConfig(deploy.update_config) } : {}),
    ...(deploy?.rollback_config ? { RollbackConfig: updateConfig(deploy.rollback_config) } : {}),
    EndpointSpec: { Mode: endpointMode, ...(ports.length ? { Ports: ports } : {}) },
  };
}

function updateConfig(u: NonNullable<NonNullable<ServiceConfig['deploy']>['update_config']>): Record<string, unknown> {
  return {
    Parallelism: u.parallelism ?? 1,
    ...(u.delay !== undefined ? { Delay: u.delay * NS } : {}),
    ...(u.failure_action ? { FailureAction: u.failure_action } : {}),
    ...(u.monitor !== undefined ? { Monitor: u.monitor * NS } : {}),
    ...(u.max_failure_ratio !== undefined ? { MaxFailureRatio: u.max_failure_ratio } : {}),
    ...(u.order ? { Order: u.order } : {}),
  };
}

/** The service's secrets (under /run/secrets unless the target is elsewhere) and configs (at /<key> by default). */
function fileReferences(svc: ServiceConfig, objects: ReadonlyMap<string, FileObjectRef>): Record<string, unknown> {
  const refs = (kind: FileObjectKind, list: ServiceConfig['secrets'], idKey: string, nameKey: string, target: (source: string) => string) => list.map((r) => {
    const obj = objects.get(objectKey(kind, r.source));
    return {
      File: { Name: target(r.target ?? r.source), UID: r.uid ?? '0', GID: r.gid ?? '0', Mode: r.mode ?? 0o444 },
      [idKey]: obj?.id ?? '', [nameKey]: obj?.name ?? r.source,
    };
  });
  return {
    // A secret's target relative to /run/secrets, as docker stack deploy writes it (the loader made it absolute).
    ...(svc.secrets.length ? { Secrets: refs('secret', svc.secrets, 'SecretID', 'SecretName', (t) => t.replace(/^\/run\/secrets\//, '')) } : {}),
    ...(svc.configs.length ? { Configs: refs('config', svc.configs, 'ConfigID', 'ConfigName', (t) => (t.startsWith('/') ? t : `/${t}`)) } : {}),
  };
}
