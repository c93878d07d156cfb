import { describe, it, expect } from 'vitest';
import { NativeNetworks } from '../../src/engine/native/engine/networks.js';
import { publishedPorts } from '../../src/network/index.js';
import { NotFoundError, UserError } from '../../src/util/errors.js';
import { NotConnectedError } from '../../src/engine/types.js';
import { useNetEnv } from '../network/support.js';

// The Engine's NetworkApi on the native engine's networks (what the orchestrator drives).

describe('NativeNetworks (the Engine NetworkApi)', () => {
  const t = useNetEnv();

  it('creates from a compose-like spec, lists by labels, inspects, connects and disconnects by container name, removes', async () => {
    const byName = new Map<string, string>();
    const api = new NativeNetworks(async (ref) => {
      const id = byName.get(ref) ?? ref;
      const c = t.containers.find((x) => x.id === id);
      if (!c) throw new NotFoundError('container', ref);
      return { id: c.id, name: c.name };
    }, () => import('../../src/network/index.js'));
    const labels = { 'com.docker.compose.project': 'demo', 'com.docker.compose.network': 'backend' };
    const { id } = await api.create({ name: 'demo_backend', labels, internal: true, ipam: { config: [{ subnet: '10.222.0.0/24', ipRange: '10.222.0.64/26', auxAddresses: { r: '10.222.0.70' } }] } });
    await api.create({ name: 'demo_front', labels: { 'com.docker.compose.project': 'demo' } });
    await api.create({ name: 'unrelated', labels: {} });

    expect((await api.list({ labels: { 'com.docker.compose.project': 'demo' } })).map((n) => n.name).sort()).toEqual(['demo_backend', 'demo_front']);
    expect((await api.list({ labels: { 'com.docker.compose.network': 'backend' } })).map((n) => n.id)).toEqual([id]);
    expect((await api.list({ names: ['unrelated'] })).map((n) => n.name)).toEqual(['unrelated']);
    expect(await api.inspect('nope')).toBeUndefined();
    const details = (await api.inspect('demo_backend'))!;
    expect(details).toMatchObject({ id, internal: true, scope: 'local', driver: 'bridge', ipam: [{ subnet: '10.222.0.0/24', gateway: '10.222.0.1', ipRange: '10.222.0.64/26', auxAddresses: { r: '10.222.0.70' } }] });

    const web = await t.start('demo-web-1', [{ network: 'demo_front' }], ['127.0.0.1::80/tcp']);
    byName.set('demo-web-1', web.id);
    expect(publishedPorts(web.id)).toEqual([{ target: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: web.attach.ports[0]!.hostPort }]);
    await api.connect('demo_backend', 'demo-web-1', { aliases: ['web'] });
    const connected = (await api.inspect('demo_backend'))!.containers[web.id]!;
    expect(connected.name).toBe('demo-web-1');
    expect(connected.ipv4Address).toBe('10.222.0.64/24');
    await api.disconnect('demo_backend', 'demo-web-1');
    // Not connected any more: an error, as Docker answers and as `network disconnect` has always said
    // (the planner's disconnects take it for the goal reached; test/planner/execute.test.ts).
    await expect(api.disconnect('demo_backend', 'demo-web-1')).rejects.toBeInstanceOf(NotConnectedError);
    expect((await api.inspect('demo_backend'))!.containers).toEqual({});

    await expect(api.create({ name: 'v6', labels: {}, ipam: { config: [{ subnet: 'fd00::/64' }] } })).rejects.toThrow(/IPv6 subnets are not supported/);
    await expect(api.create({ name: 'drv', labels: {}, ipam: { driver: 'dhcp' } })).rejects.toThrow(UserError);
    await api.remove('unrelated');
    expect(await api.inspect('unrelated')).toBeUndefined();
  });
});
