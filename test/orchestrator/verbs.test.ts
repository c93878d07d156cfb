import { describe, expect, it } from 'vitest';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * Compose v2's scale, volumes, stats and publish, on both backends with the
 * same assertions: scale sets a service's replicas and leaves the others;
 * volumes lists the project's volumes (of some services); stats reads each
 * container once with --no-stream; publish is refused in one sentence.
 */
const FILE = `services:
  web:
    image: ${BUSYBOX}
    command: ["sh", "-c", "exec sleep 600 || echo a command longer than ps shows"]
    init: true
    volumes: [data:/data]
  side:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    init: true
    volumes: [cache:/cache]
volumes:
  data: {}
  cache: {}
`;

describe.each(BACKENDS)('scale, volumes, stats and publish on %s', (backend) => {
  const scenario = useScenarios(backend);

  it('scale, volumes, stats --no-stream, publish', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    const startedAt = Date.now() - 1000;
    await s.ok(['up', '-d']);
    const services = async () => (await s.ok(['ps', '--format', '{{.Service}}'])).stdout.split('\n').filter(Boolean).sort();

    await s.ok(['scale', 'web=3']);
    expect(await services()).toEqual(['side', 'web', 'web', 'web']);
    await s.ok(['scale', 'web=1', 'side=2']);
    expect(await services()).toEqual(['side', 'side', 'web']);
    const bad = await s.compose(['scale', 'nope=2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no such service: nope');
    expect((await s.compose(['scale', 'web']))).toMatchObject({ code: 1 });

    expect((await s.ok(['volumes'])).stdout).toMatch(new RegExp(`^DRIVER\\s+VOLUME NAME\\nlocal\\s+${s.name}_cache\\nlocal\\s+${s.name}_data\\n$`));
    expect((await s.ok(['volumes', '-q', 'web'])).stdout).toBe(`${s.name}_data\n`);
    expect((await s.ok(['volumes', '--format', '{{.Name}} {{.Driver}}', 'side'])).stdout).toBe(`${s.name}_cache local\n`);

    const stats = (await s.ok(['stats', '--no-stream', '--format', 'json', 'side'])).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Name: string; PIDs: string; MemUsage: string });
    expect(stats.map((r) => r.Name).sort()).toEqual([`${s.name}-side-1`, `${s.name}-side-2`]);
    for (const r of stats) {
      expect(Number(r.PIDs)).toBeGreaterThanOrEqual(1);
      expect(r.MemUsage).toMatch(/^\d+(\.\d+)?[KMG]?i?B \/ \d/);
    }

    // ps --no-trunc shows the whole command; --orphans (the default) and --no-orphans, against a file without `side`.
    const command = (JSON.parse((await s.ok(['ps', '--format', 'json', 'web'])).stdout.split('\n')[0]!) as { Command: string }).Command;
    expect(command.length).toBeGreaterThan(22);
    expect((await s.ok(['ps', 'web'])).stdout).not.toContain(command);
    expect((await s.ok(['ps', '--no-trunc', 'web'])).stdout).toContain(command);
    s.write('web-only.yaml', FILE.replace(/  side:[^]*?volumes: \[cache:\/cache\]\n/, ''));
    const psServices = async (flags: string[]) => (await s.ok(['-f', 'web-only.yaml', 'ps', ...flags, '--format', '{{.Service}}'])).stdout.split('\n').filter(Boolean).sort();
    expect(await psServices(['--no-orphans'])).toEqual(['web']);
    expect(await psServices(['--orphans'])).toEqual(['side', 'side', 'web']);

    // events --since/--until: the replay of what happened so far, then the stream ends by itself.
    const replay = await s.ok(['events', '--json', '--since', String(startedAt / 1000), '--until', String(Date.now() / 1000)]);
    const seen = replay.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; service: string });
    expect(seen.filter((e) => e.action === 'start').map((e) => e.service)).toEqual(expect.arrayContaining(['side', 'web']));

    // run --env-from-file (-e wins over the file) and -q (nothing on stdout).
    s.write('run.env', 'A=from-file\nB=from-file\n');
    expect((await s.ok(['run', '--rm', '-T', '--no-deps', '--env-from-file', 'run.env', '-e', 'A=flag', 'side', 'sh', '-c', 'echo $A $B'])).stdout).toBe('flag from-file\n');
    const quiet = await s.ok(['run', '--rm', '-T', '--no-deps', '-q', 'side', 'echo', 'hidden']);
    expect(quiet.stdout).toBe('');

    const publish = await s.compose(['publish', 'registry.example/app:1']);
    expect(publish.code).toBe(1);
    expect(publish.stderr).toContain('publish is not supported: tscompose cannot store a Compose application as an OCI artifact in a registry');
    const app = await s.compose(['publish', '--app', 'registry.example/app:1']);
    expect(app.code).toBe(1);
    expect(app.stderr).toContain('publish is not supported: tscompose cannot store a Compose application as an OCI artifact in a registry');

    await s.ok(['down', '-v', '-t', '0']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
