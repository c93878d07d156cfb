import { createHash } from 'node:crypto';
import type { NetworkConfig, Project, ServiceConfig, VolumeConfig } from '../../src/project/types.js';
import type { ContainerSummary, NetworkSummary, VolumeSummary } from '../../src/engine/types.js';
import { observedFromLists } from '../../src/planner/observe.js';
import type { ObservedState } from '../../src/planner/observed.js';
import type { ContainerRef, Plan } from '../../src/planner/plan.js';
import { sha256 } from '../../src/planner/hash.js';

/**
 * Projects for planner tests, written as the loader would produce them
 * (every collection present), and a pure simulation of what an engine does
 * with a plan, so that sequences (up, edit, up, down, up) need no engine.
 */
export function service(name: string, fields: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name,
    profiles: [],
    annotations: {},
    cap_add: [],
    cap_drop: [],
    command: null,
    configs: [],
    depends_on: {},
    device_cgroup_rules: [],
    devices: [],
    dns: [],
    dns_opt: [],
    dns_search: [],
    entrypoint: null,
    environment: {},
    env_file: [],
    expose: [],
    external_links: [],
    extra_hosts: {},
    group_add: [],
    gpus: [],
    image: 'busybox:latest',
    labels: {},
    label_file: [],
    links: [],
    models: {},
    networks: {},
    oom_kill_disable: false,
    ports: [],
    post_start: [],
    pre_start: [],
    pre_stop: [],
    privileged: false,
    read_only: false,
    secrets: [],
    security_opt: [],
    stdin_open: false,
    storage_opt: {},
    sysctls: {},
    tmpfs: [],
    tty: false,
    ulimits: {},
    use_api_socket: false,
    volumes: [],
    volumes_from: [],
    ...fields,
  };
}

export function network(name: string, fields: Partial<NetworkConfig> = {}): NetworkConfig {
  return { name, driver_opts: {}, ipam: { config: [], options: {} }, external: false, internal: false, attachable: false, labels: {}, ...fields };
}

export function volume(name: string, fields: Partial<VolumeConfig> = {}): VolumeConfig {
  return { name, driver_opts: {}, external: false, labels: {}, ...fields };
}

export function project(name: string, services: ServiceConfig[], extra: Partial<Project> = {}): Project {
  const usesDefault = services.some((s) => !s.network_mode && Object.keys(s.networks).length === 0);
  return {
    name,
    workingDir: `/srv/${name}`,
    configFiles: [`/srv/${name}/compose.yaml`],
    environment: {},
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    disabledServices: {},
    profiles: [],
    networks: usesDefault ? { default: network(`${name}_default`) } : {},
    volumes: {},
    configs: {},
    secrets: {},
    models: {},
    extensions: {},
    ...extra,
  };
}

/** Image ids the "engine" knows: every reference resolves to a stable fake id. */
export function imageId(ref: string, version = 1): string {
  return `sha256:${sha256(`${ref}#${version}`)}`;
}

/**
 * An engine's state as plain lists, and what applying a plan does to it:
 * create/start/stop/remove/rename containers, networks and volumes.
 */
export class FakeWorld {
  containers: ContainerSummary[] = [];
  networks: NetworkSummary[] = [];
  volumes: VolumeSummary[] = [];
  images: Record<string, string> = {};
  private counter = 0;

  constructor(readonly defaultImageVersion = 1) {}

  private newId(seed: string): string {
    this.counter++;
    return createHash('sha256').update(`${seed}#${this.counter}`).digest('hex');
  }

  observe(p: Project): ObservedState {
    const state = observedFromLists(p.name, p, this.containers, this.networks, this.volumes);
    for (const s of Object.values(p.services)) {
      const ref = s.image ?? `${p.name}-${s.name}`;
      state.images[ref] = { id: this.images[ref] ?? imageId(ref, this.defaultImageVersion), config: { entrypoint: [], cmd: ['sh'], env: [], workingDir: '', user: '', exposedPorts: [], volumes: [], labels: {} } };
    }
    for (const n of Object.values(p.networks)) {
      const found = this.networks.find((x) => x.name === n.name);
      if (n.external || !state.networks[Object.keys(p.networks).find((k) => p.networks[k] === n)!]) state.networksByName[n.name] = found ?? null;
    }
    for (const v of Object.values(p.volumes)) {
      const found = this.volumes.find((x) => x.name === v.name);
      if (v.external || !found?.labels['com.docker.compose.volume']) state.volumesByName[v.name] = found ?? null;
    }
    for (const [kind, defs] of [['config', p.configs], ['secret', p.secrets]] as const) {
      for (const [name, def] of Object.entries(defs)) {
        const content = Buffer.from(def.content ?? def.file ?? '');
        state.contents[`${kind}:${name}`] = { digest: sha256(content), content, file: def.file };
      }
    }
    return state;
  }

  apply(plan: Plan): void {
    const created = new Map<number, string>();
    const idOf = (ref: ContainerRef) => ('id' in ref ? ref.id : created.get(ref.createdBy)!);
    const container = (ref: ContainerRef) => {
      const c = this.containers.find((x) => x.id === idOf(ref));
      if (!c) throw new Error(`no container ${ref.name}`);
      return c;
    };
    for (const node of plan.nodes) {
      const op = node.op;
      switch (op.kind) {
        case 'CreateNetwork':
          if (this.networks.some((n) => n.name === op.spec.name)) throw new Error(`network ${op.spec.name} exists`);
          this.networks.push({ id: this.newId(op.spec.name), name: op.spec.name, driver: op.spec.driver ?? 'bridge', scope: 'local', internal: !!op.spec.internal, labels: op.spec.labels, ipam: [], created: 0 });
          break;
        case 'RemoveNetwork':
          this.networks = this.networks.filter((n) => n.name !== op.name);
          break;
        case 'CreateVolume':
          this.volumes.push({ name: op.spec.name, driver: 'local', labels: op.spec.labels, mountpoint: '', options: {} });
          break;
        case 'RemoveVolume':
          this.volumes = this.volumes.filter((v) => v.name !== op.name);
          break;
        case 'CreateContainer': {
          const s = op.spec;
          if (this.containers.some((c) => c.name === s.name)) throw new Error(`container name ${s.name} in use`);
          const id = this.newId(s.name);
          created.set(node.id, id);
          const networks: ContainerSummary['networks'] = {};
          for (const a of s.networks ?? []) {
            const n = this.networks.find((x) => x.name === a.network);
            if (!n) throw new Error(`network ${a.network} not found`);
            networks[a.network] = { networkId: n.id, aliases: a.aliases ?? [] };
          }
          this.containers.push({
            id,
            name: s.name,
            image: s.image,
            imageId: '',
            command: '',
            created: this.counter,
            state: 'created',
            status: 'Created',
            labels: s.labels,
            ports: [],
            networks,
            mounts: (s.mounts ?? []).map((m) => ({ type: m.type, name: m.type === 'volume' ? m.source || this.newId('anon') : undefined, source: m.source ?? '', target: m.target, readOnly: !!m.readOnly })),
          });
          break;
        }
        case 'StartContainer':
          container(op.container).state = 'running';
          break;
        case 'StopContainer': {
          const c = container(op.container);
          c.state = 'exited';
          c.exitCode = 0;
          break;
        }
        case 'RemoveContainer':
          this.containers = this.containers.filter((c) => c.id !== idOf(op.container));
          break;
        case 'RenameContainer':
          container(op.container).name = op.name;
          break;
        case 'ConnectNetwork': {
          const n = this.networks.find((x) => x.name === op.network)!;
          container(op.container).networks[op.network] = { networkId: n.id, aliases: op.attachment.aliases ?? [] };
          break;
        }
        case 'DisconnectNetwork':
          delete container(op.container).networks[op.network];
          break;
        case 'WaitContainer':
        case 'RemoveImage':
          break;
        default:
          throw new Error(`the fake world does not do ${op.kind}`);
      }
    }
  }
}
