import type { NetworkAttachment, NetworkCreateRequest, VolumeCreateRequest } from '../engine/types.js';
import type { NetworkConfig, Project, ServiceConfig, VolumeConfig } from '../project/types.js';
import { UserError } from '../util/errors.js';
import { serviceNetworkKeys } from './container-request.js';
import { networkHash, volumeHash } from './hash.js';
import { COMPOSE_VERSION, Label } from './labels.js';
import type { ObservedContainer, ObservedState } from './observed.js';
import type { PlanBuilder } from './plan.js';

export function networkCreateRequest(project: Project, key: string, n: NetworkConfig): NetworkCreateRequest {
  return {
    name: n.name,
    driver: n.driver,
    driverOpts: n.driver_opts,
    labels: { ...n.labels, [Label.project]: project.name, [Label.network]: key, [Label.version]: COMPOSE_VERSION, [Label.configHash]: networkHash(n) },
    internal: n.internal,
    attachable: n.attachable,
    enableIpv6: n.enable_ipv6,
    ipam:
      n.ipam.driver || n.ipam.config.length || Object.keys(n.ipam.options).length
        ? {
            driver: n.ipam.driver,
            config: n.ipam.config.map((p) => ({ subnet: p.subnet, gateway: p.gateway, ipRange: p.ip_range, auxAddresses: p.aux_addresses })),
            options: n.ipam.options,
          }
        : undefined,
  };
}

export function volumeCreateRequest(project: Project, key: string, v: VolumeConfig): VolumeCreateRequest & { name: string } {
  return {
    name: v.name,
    driver: v.driver,
    driverOpts: v.driver_opts,
    labels: { ...v.labels, [Label.project]: project.name, [Label.volume]: key, [Label.version]: COMPOSE_VERSION, [Label.configHash]: volumeHash(v) },
  };
}

/**
 * Plans the project's networks and volumes: create what is missing, recreate
 * a network whose configuration changed (its containers are stopped,
 * disconnected, and reconnected to the new one, not recreated), and only warn
 * about a volume whose configuration changed: recreating it would lose data.
 */
export class ResourcePlanner {
  private readonly networkNodes: Record<string, number> = {};
  private readonly volumeNodes: Record<string, number> = {};
  private readonly divergedNetworks = new Set<string>();

  constructor(
    private readonly project: Project,
    private readonly observed: ObservedState,
    private readonly b: PlanBuilder,
    private readonly used: { networks: Set<string>; volumes: Set<string> },
    /** `--yes`: a diverged volume is refused rather than kept (see planVolumes). */
    private readonly assumeYes = false,
  ) {
    for (const key of this.used.networks) {
      const desired = this.network(key);
      const obs = observed.networks[key];
      if (!desired.external && obs && (obs.name !== desired.name || (obs.configHash !== '' && obs.configHash !== networkHash(desired)))) {
        this.divergedNetworks.add(key);
      }
    }
  }

  private network(key: string): NetworkConfig {
    const n = this.project.networks[key];
    if (!n) throw new UserError(`network ${key} is used by a service but not declared`, 1, 'declare it under the top-level networks: key');
    return n;
  }

  /** Live network ids the project's containers should be connected to (networks kept as they are). */
  expectedNetworkIds(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of this.used.networks) {
      if (this.divergedNetworks.has(key)) continue;
      const n = this.network(key);
      const id = n.external ? this.observed.networksByName[n.name]?.id : this.observed.networks[key]?.id;
      if (id) out[key] = id;
    }
    return out;
  }

  planNetworks(
    containers: ObservedContainer[],
    goingAway: (id: string) => boolean,
    stopped: Map<string, number>,
    reconnected: Map<string, number[]>,
    timeout: number | undefined,
  ): void {
    for (const key of [...this.used.networks].sort()) {
      const desired = this.network(key);
      if (desired.external) {
        if (!this.observed.networksByName[desired.name]) {
          throw new UserError(`network ${desired.name} declared as external, but could not be found`, 1, `create it first (docker network create ${desired.name}), or remove external: true`);
        }
        continue;
      }
      const obs = this.observed.networks[key];
      const res = `network:${key}`;
      if (!obs) {
        const other = this.observed.networksByName[desired.name];
        if (other) {
          throw new UserError(
            `network ${desired.name} was found but has incorrect label ${Label.network} set to "${other.labels[Label.network] ?? ''}"`,
            1,
            `remove it, or declare it with external: true to use it as it is`,
          );
        }
        this.networkNodes[key] = this.b.add({ kind: 'CreateNetwork', spec: networkCreateRequest(this.project, key, desired) }, res, 'not found');
        continue;
      }
      if (!this.divergedNetworks.has(key)) continue;
      const attached = containers.filter((c) => Object.values(c.summary.networks).some((n) => n.networkId === obs.id) || obs.name in c.summary.networks);
      const disconnects: number[] = [];
      const why = obs.name !== desired.name ? `network ${key} renamed` : `network ${key} config changed`;
      for (const c of attached) {
        const ref = { id: c.id, name: c.name };
        const cres = c.oneoff || !this.project.services[c.service] ? `container:${c.name}` : `service:${c.service}:${c.number}`;
        let stop = stopped.get(c.id);
        if (stop === undefined && c.summary.state === 'running') {
          stop = this.b.add({ kind: 'StopContainer', container: ref, timeout }, cres, why);
          stopped.set(c.id, stop);
        }
        disconnects.push(this.b.add({ kind: 'DisconnectNetwork', network: obs.name, container: ref }, cres, why, [stop]));
      }
      const remove = this.b.add({ kind: 'RemoveNetwork', name: obs.name }, res, 'config changed', disconnects);
      const create = this.b.add({ kind: 'CreateNetwork', spec: networkCreateRequest(this.project, key, desired) }, res, 'config changed', [remove]);
      this.networkNodes[key] = create;
      for (const c of attached) {
        if (goingAway(c.id)) continue;
        const cres = c.oneoff || !this.project.services[c.service] ? `container:${c.name}` : `service:${c.service}:${c.number}`;
        const connect = this.b.add({ kind: 'ConnectNetwork', network: desired.name, container: { id: c.id, name: c.name }, attachment: this.attachment(c, key) }, cres, why, [create]);
        reconnected.set(c.id, [...(reconnected.get(c.id) ?? []), connect]);
      }
    }
  }

  /** How a reconnected container joins: the aliases it was created with. */
  private attachment(c: ObservedContainer, key: string): Omit<NetworkAttachment, 'network'> {
    const service = this.project.services[c.service];
    const cfg = service?.networks[key] ?? undefined;
    const aliases = c.oneoff || !service ? [c.name] : [c.name, service.name, ...(cfg?.aliases ?? [])];
    return { aliases: [...new Set(aliases)], ipv4Address: cfg?.ipv4_address, ipv6Address: cfg?.ipv6_address };
  }

  planVolumes(): void {
    for (const key of [...this.used.volumes].sort()) {
      const desired = this.project.volumes[key];
      if (!desired) throw new UserError(`volume ${key} is used by a service but not declared`, 1, 'declare it under the top-level volumes: key');
      if (desired.external) {
        if (!this.observed.volumesByName[desired.name]) {
          throw new UserError(`external volume "${desired.name}" not found`, 1, `create it first (docker volume create ${desired.name}), or remove external: true`);
        }
        continue;
      }
      const obs = this.observed.volumes[key];
      if (obs && obs.name === desired.name) {
        if (obs.configHash !== '' && obs.configHash !== volumeHash(desired)) {
          if (this.assumeYes) {
            // Compose's `--yes` answers its "Recreate (data will be lost)?" with yes; we do not recreate volumes.
            throw new UserError(
              `volume "${desired.name}" exists but doesn't match the configuration in the compose file, and --yes would recreate it (its data lost), which tscompose does not do`,
              1,
              'remove it with `down -v` (or `volume rm`) to apply the new configuration, or run without --yes to keep it as it is',
            );
          }
          this.b.warnings.push(
            `volume "${desired.name}" exists but doesn't match the configuration in the compose file; it is kept as it is (recreating it would lose its data: remove it with \`down -v\` to apply the new configuration)`,
          );
        }
        continue;
      }
      const other = this.observed.volumesByName[desired.name];
      if (other) {
        this.b.warnings.push(`volume "${desired.name}" already exists but was not created for this project; it is used as it is (declare it external: true to say so)`);
        continue;
      }
      this.volumeNodes[key] = this.b.add({ kind: 'CreateVolume', spec: volumeCreateRequest(this.project, key, desired) }, `volume:${key}`, obs ? `volume ${key} renamed` : 'not found');
    }
  }

  /** The create nodes of the networks and volumes a service's containers need. */
  infraNodes(service: ServiceConfig): number[] {
    const out: number[] = [];
    for (const key of serviceNetworkKeys(this.project, service)) if (this.networkNodes[key] !== undefined) out.push(this.networkNodes[key]!);
    for (const v of service.volumes) if (v.type === 'volume' && v.source && this.volumeNodes[v.source] !== undefined) out.push(this.volumeNodes[v.source]!);
    return out;
  }
}
