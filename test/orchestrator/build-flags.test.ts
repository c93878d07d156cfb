import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * Compose's build flags on both backends with the same assertions: --print
 * (the Bake definition, nothing built), --memory (the limit a RUN step
 * runs under), --provenance/--sbom (accepted, with a warning that nothing
 * is attested), and --check, --ssh, --builder refused in one sentence each,
 * before anything is built.
 */
describe.each(BACKENDS)('build flags on %s', (backend) => {
  const scenario = useScenarios(backend);

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
