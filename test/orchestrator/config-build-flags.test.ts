import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRegistry } from '../support/registry.js';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * `config --hash` (the hash `up` labels each container with and recreates
 * on), `config --resolve-image-digests` and `--lock-image-digests` (images
 * pinned to the digest recorded when they were pulled, from a real registry
 * on 127.0.0.1), and Compose's build flags: --print (the Bake definition,
 * nothing built), --memory (the limit a RUN step runs under),
 * --provenance/--sbom (accepted, with a warning that nothing is attested),
 * --check, --ssh, --builder refused in one sentence each before anything is
 * built; on both backends with the same assertions (one set-up per backend).
 */
const FILE = `services:
  web:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    init: true
    environment: {MODE: one}
  side:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    init: true
`;

describe.each(BACKENDS)('config --hash, the image digest flags and the build flags on %s', (backend) => {
  const scenario = useScenarios(backend);

  it('prints the config hash up labels the container with, and a new one when the service changes', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    await s.ok(['up', '-d', 'web']);
    const labels = (await s.ok(['ps', '--format', '{{.Labels}}', 'web'])).stdout;
    const label = /com\.docker\.compose\.config-hash=([0-9a-f]{64})/.exec(labels)?.[1];
    expect(label).toBeDefined();
    expect((await s.ok(['config', '--hash', 'web'])).stdout).toBe(`web ${label}\n`);
    const all = (await s.ok(['config', '--hash', '*'])).stdout.split('\n').filter(Boolean);
    expect(all.map((l) => l.split(' ')[0])).toEqual(['side', 'web']);
    expect(all[1]).toBe(`web ${label}`);

    s.write('compose.yaml', FILE.replace('MODE: one', 'MODE: two'));
    const changed = (await s.ok(['config', '--hash', 'web'])).stdout.trim().split(' ')[1];
    expect(changed).toMatch(/^[0-9a-f]{64}$/);
    expect(changed).not.toBe(label);
    await s.ok(['up', '-d', 'web']);
    expect((await s.ok(['ps', '--format', '{{.Labels}}', 'web'])).stdout).toContain(`com.docker.compose.config-hash=${changed}`);

    const bad = await s.compose(['config', '--hash', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no such service: nope');
    await s.ok(['down', '-t', '0']);
  });

  it('pins an image to the digest its pull recorded, and refuses one that never came from a registry', async () => {
    const registry = await startRegistry();
    try {
      const s = scenario();
      const ref = `${registry.host}/tsc-pinned:1`;
      // The image goes to the registry and leaves the engine, so that its pull records the digest.
      if (backend === 'native') {
        for (const args of [['tag', BUSYBOX, ref], ['push', ref], ['rm', ref]]) await s.ok(['image', ...args]);
      } else {
        for (const args of [['tag', BUSYBOX, ref], ['push', '-q', ref], ['rmi', ref]]) execFileSync('docker', args, { stdio: 'ignore' });
      }
      s.write('compose.yaml', `services:\n  app:\n    image: ${ref}\n`);
      await s.ok(['pull']);
      const head = await fetch(`http://${registry.host}/v2/tsc-pinned/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
      const digest = head.headers.get('docker-content-digest');
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

      const resolved = parse((await s.ok(['config', '--resolve-image-digests'])).stdout) as { services: Record<string, { image: string }> };
      expect(resolved.services.app!.image).toBe(`${ref}@${digest}`);
      expect(parse((await s.ok(['config', '--lock-image-digests'])).stdout)).toEqual({ services: { app: { image: `${ref}@${digest}` } } });

      s.write('compose.yaml', `services:\n  app:\n    image: ${ref}\n  local:\n    image: ${BUSYBOX}\n`);
      const refused = await s.compose(['config', '--resolve-image-digests']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`the image ${BUSYBOX} of service local has no registry digest (it was not pulled from or pushed to a registry)`);
    } finally {
      if (backend === 'docker') execFileSync('docker', ['rmi', '-f', `${registry.host}/tsc-pinned:1`], { stdio: 'ignore' });
      await registry.stop();
    }
  });

  it('--print, --memory, --provenance/--sbom, and the refusals', async () => {
    const s = scenario();
    const ref = `${s.name}-app:1`;
    s.write('Dockerfile', `FROM ${BUSYBOX}\nARG A\nRUN echo "arg=$A limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"\n`);
    s.write('compose.yaml', `services:\n  app:\n    image: ${ref}\n    build:\n      context: .\n      args: {A: from-file}\n`);
    try {
      const printed = JSON.parse((await s.ok(['build', '--print', '--build-arg', 'A=from-flag'])).stdout) as unknown;
      expect(printed).toEqual({
        group: { default: { targets: ['app'] } },
        target: {
          app: {
            context: s.dir,
            dockerfile: 'Dockerfile',
            args: { A: 'from-flag' },
            labels: { 'com.docker.compose.project': s.name, 'com.docker.compose.service': 'app' },
            tags: [ref],
            output: ['type=docker'],
          },
        },
      });
      // Printed, not built: the image is not there.
      expect((await s.compose(['config', '--hash', 'app'])).stderr).toContain(`the image ${ref} of service app is not here`);

      for (const [flags, sentence] of [
        [['--check'], 'build --check is not supported: the builder has no build checks to run'],
        [['--ssh', 'default'], 'build --ssh is not supported: the builder does not forward SSH agents or keys into RUN steps'],
        [['--builder', 'mybuilder'], "build --builder is not supported: tscompose builds with its own builder, or with the Docker Engine's (--backend docker)"],
      ] as const) {
        const r = await s.compose(['build', ...flags]);
        expect([r.code, r.stderr]).toEqual([1, expect.stringContaining(sentence)]);
      }
      expect((await s.compose(['config', '--hash', 'app'])).stderr).toContain(`the image ${ref} of service app is not here`);

      const built = await s.ok(['build', '--memory', '64m', '--provenance', 'mode=max', '--sbom', 'true']);
      expect(built.stdout).toContain('arg=from-file limit=67108864');
      expect(built.stderr).toContain('build --provenance is not applied: no attestations are made');
      expect(built.stderr).toContain('build --sbom is not applied: no attestations are made');
      expect((await s.ok(['config', '--hash', 'app'])).stdout).toMatch(/^app [0-9a-f]{64}\n$/);
    } finally {
      if (backend === 'docker') execFileSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
    }
  });
});
