import { describe, expect, it } from 'vitest';
import { BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * End to end on the native engine: what the engine cannot honour stops `up`
 * before anything exists (even the services listed before the refused one,
 * their network and volume); what it does not apply is said and `up` goes on;
 * `attach: false` keeps a service's output out of a foreground `up`. The
 * table itself is checked property by property in test/planner/service-support.test.ts.
 */
describe('service properties the native engine cannot honour', () => {
  const scenario = useScenarios('native');

  it('up refuses them (and a host port published twice) before creating anything, naming service and fix', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `services:
  a: { image: ${BUSYBOX}, command: [sleep, "60"], volumes: [data:/data], networks: [n] }
  b: { image: ${BUSYBOX}, command: [sleep, "60"], cgroup_parent: mine, mac_address: "02:42:ac:11:00:02", pre_start: [{ command: [echo, hi] }], networks: [n] }
networks: { n: { internal: true } }
volumes: { data: {} }
`,
    );
    const r = await s.compose(['up', '-d']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('service b: cgroup_parent is not supported by the native engine (drop cgroup_parent:, or use --backend docker)');
    expect(r.stderr).toContain('service b: mac_address is not supported by the native engine');
    expect(r.stderr).toContain('service b: pre_start hooks are not run by tscompose yet');
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });

    s.write('compose.yaml', `services:\n  a: { image: ${BUSYBOX}, command: [sleep, "60"], ports: ["127.0.0.1:18431:80"] }\n  b: { image: ${BUSYBOX}, command: [sleep, "60"], ports: ["18431:81"] }\n`);
    expect((await s.compose(['config', '-q'])).code).toBe(0);
    const p = await s.compose(['up', '-d']);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('services a and b both publish port 18431/tcp on 127.0.0.1');
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('up warns about what it does not apply, and a service with attach: false stays out of the output', async () => {
    const s = scenario();
    s.write(
      'compose.yaml',
      `services:
  quiet: { image: ${BUSYBOX}, command: [echo, from-quiet], attach: false, network_mode: none }
  loud: { image: ${BUSYBOX}, command: [echo, from-loud], mem_swappiness: 10, network_mode: none, depends_on: [quiet] }
`,
    );
    const r = await s.ok(['up']);
    const out = r.stdout + r.stderr;
    expect(out).toContain('service loud: mem_swappiness is not applied by the native engine');
    expect(r.stdout).toContain('from-loud');
    expect(r.stdout).not.toContain('from-quiet');
    expect((await s.ok(['logs', 'quiet'])).stdout).toContain('from-quiet');
    await s.ok(['down']);
  });

  it('container inspect shows the restart policy and the restarts it made', async () => {
    const s = scenario();
    s.write('compose.yaml', `services:\n  a: { image: ${BUSYBOX}, command: [sh, -c, "exit 3"], restart: "on-failure:2", network_mode: none }\n`);
    await s.ok(['up', '-d']);
    const name = `${s.name}-a-1`;
    let seen = '';
    for (let i = 0; i < 300 && seen !== '2 on-failure 2 exited'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await s.ok(['container', 'inspect', '--format', '{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.State.Status}}', name])).stdout.trim();
    }
    expect(seen).toBe('2 on-failure 2 exited');
    await s.ok(['down']);
  });
});
