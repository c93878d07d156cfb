import { describe, expect, it } from 'vitest';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * post_start and pre_stop hooks, on both backends with the same assertions:
 * run in order, in the container, with their own user, working dir and
 * environment; a post_start hook that fails fails `up` with Compose's
 * sentence and what the hook printed.
 */
const FILE = `services:
  app:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    init: true
    volumes: [marks:/marks]
    post_start:
      - command: ["sh", "-c", "chmod 777 /marks; rm -f /marks/post"]
      - command: ["sh", "-c", "echo \\"$$(id -u) $$GREETING $$(pwd)\\" >> /marks/post"]
        user: "1234"
        working_dir: /tmp
        environment: { GREETING: hi }
    pre_stop:
      - command: ["sh", "-c", "echo stopping >> /marks/pre"]
  bad:
    image: ${BUSYBOX}
    command: ["sleep", "600"]
    init: true
    post_start:
      - command: ["sh", "-c", "echo oops; exit 3"]
volumes:
  marks: {}
`;

describe.each(BACKENDS)('lifecycle hooks on %s', (backend) => {
  const scenario = useScenarios(backend);

  it('post_start after the start and pre_stop before the stop, each with its user, dir and environment; a failing hook fails up', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    await s.ok(['up', '-d', 'app']);
    expect((await s.ok(['exec', '-T', 'app', 'cat', '/marks/post'])).stdout).toBe('1234 hi /tmp\n');

    await s.ok(['stop', 'app']);
    await s.ok(['start', 'app']);
    expect((await s.ok(['exec', '-T', 'app', 'cat', '/marks/pre'])).stdout).toBe('stopping\n');
    await s.ok(['down']); // pre_stop again, on the way down
    await s.ok(['up', '-d', 'app']);
    expect((await s.ok(['exec', '-T', 'app', 'cat', '/marks/pre'])).stdout).toBe('stopping\nstopping\n');

    const bad = await s.compose(['up', '-d', 'bad']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${s.name}-bad-1 hook exited with status 3: oops`);

    await s.ok(['down', '-v', '-t', '0']);
    expect(s.leftovers()).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
