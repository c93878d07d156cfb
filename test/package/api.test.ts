import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ComposeError, ExecError, UserError, up, type Stack } from '../../src/package/index.js';
import { BUSYBOX, backendLeftovers, dockerCleanup, prepareBackend, releaseBackend, uniqueName } from '../orchestrator/helpers.js';

/**
 * The Node API in-process (src/package), on the native engine in a root of
 * this file's own and once on the docker backend: what a test suite relies
 * on beyond the example's happy path (examples/node-api, run from the packed
 * tarball by package.test.ts): a failed `up` leaves nothing, exec's output
 * and errors, logs that end, disposal that keeps volumes when asked.
 */

const STACK = `
services:
  web:
    image: ${BUSYBOX}
    command: ["sh", "-c", "echo ready; echo oops >&2; mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1::80"]
  store:
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;

let dir: string;
const stacks: Stack[] = [];
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  await prepareBackend('native');
  dir = mkdtempSync(join(tmpdir(), 'tsc-api-'));
}, 300_000);

afterEach(async () => {
  // A failed assertion must not leave its stack: down, with volumes.
  for (const s of stacks.splice(0)) await s.down({ volumes: true }).catch(() => undefined);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await releaseBackend('native');
});

const nothing = { containers: [], networks: [], volumes: [] };
const leftovers = (project: string) => backendLeftovers('native', `com.docker.compose.project=${project}`);

describe('the Node API', () => {
  it('carries the file, line and column of a mistake in the compose file', async () => {
    const bad = file('bad.yaml', 'services:\n  web:\n    image: x\n    ports: 80\n');
    const err = await up({ files: [bad], projectName: uniqueName('apibad') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeError);
    expect(err).toMatchObject({ file: bad, line: 4, column: 12 });
    expect((err as ComposeError).diagnostics.length).toBeGreaterThan(0);
  });

  it('runs commands with their output, input and exit code, and follows logs until told to stop', async () => {
    const stack = await up({ files: [file('a.yaml', STACK)], projectName: uniqueName('apiexec'), wait: true });
    stacks.push(stack);
    expect(await stack.exec('store', ['sh', '-c', 'cat > /data/in && cat /data/in'], { input: 'from stdin' })).toEqual({ exitCode: 0, stdout: 'from stdin', stderr: '' });
    expect(await stack.exec('store', ['sh', '-c', 'echo no >&2; exit 3'], { reject: false })).toEqual({ exitCode: 3, stdout: '', stderr: 'no\n' });
    const failed = await stack.exec('store', ['sh', '-c', 'echo why >&2; exit 4']).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ExecError);
    expect(failed).toMatchObject({ service: 'store', exitCode: 4, stderr: 'why\n', message: 'sh -c echo why >&2; exit 4 in service store exited with code 4: why' });

    // Without follow: what is there, then the end.
    const lines = [];
    for await (const l of stack.logs({ services: ['web'] })) lines.push(`${l.stream} ${l.text}`);
    expect(lines).toEqual(['stdout ready', 'stderr oops']);
    // With follow: until the signal, however long the containers run.
    const stop = new AbortController();
    const followed: string[] = [];
    setTimeout(() => stop.abort(), 300);
    for await (const l of stack.logs({ follow: true, signal: stop.signal })) followed.push(l.service);
    expect(followed).toEqual(['web', 'web']);

    const where = await stack.address('web', 80);
    expect(where.host).toBe('127.0.0.1');
    expect(await (await fetch(`http://${where.host}:${where.port}/`)).text()).toBe('hi\n');
  });

  it('takes down what a failed up made before it throws', async () => {
    const project = uniqueName('apifail');
    const failing = file('fail.yaml', `${STACK}
  sick:
    image: ${BUSYBOX}
    command: ["sleep", "3600"]
    healthcheck: { test: ["CMD", "false"], interval: 100ms, retries: 1 }
`.replace('volumes:\n  data: {}\n', '') + 'volumes:\n  data: {}\n');
    await expect(up({ files: [failing], projectName: project, wait: true, waitTimeout: 5000 })).rejects.toThrow(/sick/);
    expect(leftovers(project)).toEqual(nothing);
  });

  it('goes once, keeps its volumes when asked, and refuses to be used after', async () => {
    const project = uniqueName('apikeep');
    const stack = await up({ files: [file('k.yaml', STACK)], projectName: project, keepVolumes: true, services: ['store'] });
    stacks.push(stack);
    await stack.exec('store', ['sh', '-c', 'echo kept > /data/f']);
    await Promise.all([stack[Symbol.asyncDispose](), stack.down()]);
    expect(leftovers(project)).toEqual({ ...nothing, volumes: [`${project}_data`] });
    expect(() => stack.logs()).toThrow(UserError);
    // The next stack of the project finds the volume; its disposal (volumes and all) clears it.
    const again = await up({ files: [file('k.yaml', STACK)], projectName: project, services: ['store'] });
    stacks.push(again);
    expect((await again.exec('store', ['cat', '/data/f'])).stdout).toBe('kept\n');
    await again.down();
    expect(leftovers(project)).toEqual(nothing);
  });

  it('drives a Docker Engine when asked', async () => {
    await prepareBackend('docker');
    const project = uniqueName('apidocker');
    try {
      await using stack = await up({ files: [file('d.yaml', STACK)], projectName: project, backend: 'docker', wait: true });
      expect(stack.engine.backend).toBe('docker');
      expect(await (await fetch(`http://127.0.0.1:${await stack.port('web', 80)}/`)).text()).toBe('hi\n');
      expect((await stack.exec('store', ['sh', '-c', 'echo $((6 * 7))'])).stdout).toBe('42\n');
    } finally {
      const left = backendLeftovers('docker', `com.docker.compose.project=${project}`);
      dockerCleanup(`com.docker.compose.project=${project}`);
      expect(left).toEqual(nothing);
    }
  });
});
