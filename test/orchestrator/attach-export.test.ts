import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ChildProcess } from 'node:child_process';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, BUSYBOX } from './helpers.js';
import { useScenarios } from './cli.js';

/**
 * Compose v2's attach, export and commit --index, and the bridge refusal,
 * on both backends with the same assertions: attach follows the replica
 * --index names and passes this process's SIGTERM on (--sig-proxy) or not
 * (--sig-proxy=false); export writes that replica's filesystem as a tar;
 * commit --index makes an image of that replica's changes.
 */
const FILE = `services:
  talk:
    image: ${BUSYBOX}
    command: ["sh", "-c", "trap 'echo got-term; exit 5' TERM; i=0; while true; do i=$$((i+1)); echo tick-$$(hostname)-$$i; sleep 0.2; done"]
  echo:
    image: ${BUSYBOX}
    command: ["cat"]
    stdin_open: true
`;

/** The process's output so far, and a wait for a pattern in it (no clock: the test's own timeout bounds it). */
function watch(p: ChildProcess): { out: () => string; waitFor: (re: RegExp) => Promise<void>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  let out = '';
  const waiters: Array<() => void> = [];
  p.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.splice(0)) w();
  });
  p.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
  const waitFor = async (re: RegExp) => {
    while (!re.test(out)) {
      const settled = await Promise.race([new Promise<'more'>((r) => waiters.push(() => r('more'))), exit.then(() => 'exited' as const)]);
      if (settled === 'exited' && !re.test(out)) throw new Error(`exited before ${re}:\n${out}`);
    }
  };
  return { out: () => out, waitFor, exit };
}

async function tarEntries(file: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      entries.set(h.name.replace(/^\.?\//, ''), Buffer.concat(chunks).toString());
      next();
    });
  });
  await pipeline(createReadStream(file), ex);
  return entries;
}

describe.each(BACKENDS)('attach, export, commit --index and bridge on %s', (backend) => {
  const scenario = useScenarios(backend);

  const spawned: ChildProcess[] = [];
  afterEach(() => {
    for (const p of spawned.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });

  it('attach follows a replica and proxies signals; export and commit take a replica by --index', async () => {
    const s = scenario();
    s.write('compose.yaml', FILE);
    await s.ok(['up', '-d', '--scale', 'talk=2']);
    const host = async (i: number) => (await s.ok(['exec', '-T', '--index', String(i), 'talk', 'hostname'])).stdout.trim();
    const [one, two] = [await host(1), await host(2)];

    // export --index 2: that replica's filesystem, the file it wrote included.
    await s.ok(['exec', '-T', '--index', '2', 'talk', 'sh', '-c', 'echo two > /which']);
    await s.ok(['exec', '-T', '--index', '1', 'talk', 'sh', '-c', 'echo one > /which']);
    await s.ok(['export', '--index', '2', '-o', 'two.tar', 'talk']);
    const files = await tarEntries(join(s.dir, 'two.tar'));
    expect(files.get('which')).toBe('two\n');
    expect(files.has('bin/busybox')).toBe(true);
    // What is mounted in it is not its filesystem: /proc's mount point is there, its content is not.
    expect([...files.keys()].filter((k) => k.startsWith('proc/') && k !== 'proc/')).toEqual([]);
    expect((await s.compose(['export', '--index', '3', '-o', 'x.tar', 'talk'])).stderr).toContain('service "talk" has no container with index 3');

    // commit --index 2: an image of that replica's changes, run as a service of its own.
    const tag = `${s.name}-committed:1`;
    try {
      const committed = await s.ok(['commit', '--index', '2', '-m', 'replica two', 'talk', tag]);
      expect(committed.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      s.write('check.yaml', `services:\n  check:\n    image: ${tag}\n    pull_policy: never\n    command: ["cat", "/which"]\n`);
      expect((await s.ok(['-f', 'check.yaml', 'run', '--rm', '-T', 'check'])).stdout).toBe('two\n');
    } finally {
      if (backend === 'docker') execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    }

    // --index 2, signals proxied: our SIGTERM reaches the container, whose exit code is attach's.
    const proxied = s.spawn(['attach', '--no-stdin', '--index', '2', 'talk']);
    spawned.push(proxied);
    const p = watch(proxied);
    await p.waitFor(new RegExp(`tick-${two}-\\d+\\n`));
    proxied.kill('SIGTERM');
    expect(await p.exit).toEqual({ code: 5, signal: null });
    expect(p.out()).toContain('got-term\n');
    expect(p.out()).not.toContain(`tick-${one}-`);

    // --sig-proxy=false: the signal ends attach, the container keeps running.
    const kept = s.spawn(['attach', '--no-stdin', '--sig-proxy=false', 'talk']);
    spawned.push(kept);
    const k = watch(kept);
    await k.waitFor(new RegExp(`tick-${one}-\\d+\\n`));
    kept.kill('SIGTERM');
    expect((await k.exit).signal).toBe('SIGTERM');
    expect((await s.ok(['ps', '--format', '{{.Name}} {{.State}}', 'talk'])).stdout).toContain(`${s.name}-talk-1 running`);

    // Input: Docker's attach carries it both ways and detaches on ctrl-p,ctrl-q, leaving the container running;
    // the native engine wires a container's input at its start only, and says so.
    const typed = s.spawn(['attach', 'echo'], { stdin: 'pipe' });
    spawned.push(typed);
    const t = watch(typed);
    typed.stdin!.write('hello\n');
    if (backend === 'docker') {
      await t.waitFor(/hello\n/);
      typed.stdin!.write('\x10\x11');
      expect(await t.exit).toEqual({ code: 0, signal: null });
      expect((await s.ok(['ps', '--format', '{{.State}}', 'echo'])).stdout).toBe('running\n');
    } else {
      expect((await t.exit).code).toBe(1);
      expect(t.out()).toContain('the native engine attaches at start');
    }
    expect((await s.compose(['attach', '--detach-keys', 'ctrl-1', 'echo'])).stderr).toContain('invalid detach keys "ctrl-1"');
    expect((await s.compose(['attach', '--index', '0', 'talk'])).stderr).toContain('give a replica number, starting at 1');

    // bridge: refused in one sentence, nothing run.
    const bridge = await s.compose(['bridge', 'convert']);
    expect(bridge.code).toBe(1);
    expect(bridge.stderr).toContain('bridge is not supported: tscompose does not run the transformer images Compose Bridge converts a project with');
    await s.ok(['down', '-t', '0']);
  });
});
