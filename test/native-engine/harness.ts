import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll } from 'vitest';
import { NativeEngine } from '../../src/engine/native/engine/index.js';
import type { ContainerCreateRequest, ContainerDetails } from '../../src/engine/types.js';
import { run, type RunResult } from '../../src/util/proc.js';
import { BUSYBOX, disposeNativeBuild, forceRemoveRoot, importBusybox, nativeBuild, nativeRoot, settledLeftovers, type NativeRoot } from './support.js';

/**
 * One native root per test: the Engine, the CLI (a private build) and the
 * daemon all work in it; afterEach removes what the test made, waits for the
 * daemon to leave, and fails the test if anything of the root is left in the
 * kernel.
 */
export interface NativeTest {
  root(): NativeRoot;
  engine(): NativeEngine;
  /** Creates and starts a busybox container (labelled for the test). */
  container(spec: Partial<ContainerCreateRequest> & { cmd: string[] }, start?: boolean): Promise<string>;
  inspect(id: string): Promise<ContainerDetails>;
  /** Polls inspect until `ok` holds (or fails with the last state after `ms`). */
  until(id: string, ok: (d: ContainerDetails) => boolean, ms?: number): Promise<ContainerDetails>;
  /** The compose CLI in a project dir of the root. */
  compose(args: string[], file?: string, input?: string): Promise<RunResult>;
  /** Pids of the daemon processes serving the root (not their keepers). */
  daemons(): number[];
}

export function useNativeEngine(): NativeTest {
  let root: NativeRoot | undefined;
  let engine: NativeEngine | undefined;
  let cli = '';
  let n = 0;

  beforeAll(async () => {
    cli = (await nativeBuild()).cli;
  });
  afterAll(() => disposeNativeBuild());

  afterEach(async () => {
    const r = root;
    const e = engine;
    root = undefined;
    engine = undefined;
    if (!r || !e) return;
    try {
      for (const c of await e.containers.list({ all: true })) await e.containers.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      for (const net of await e.networks.list()) await e.networks.remove(net.id).catch(() => undefined);
      const left = await settledLeftovers(r, 10_000);
      if (left.length) throw new Error(`left behind:\n  ${left.join('\n  ')}`);
    } finally {
      forceRemoveRoot(r);
    }
  });

  let making: Promise<void> | undefined;
  const ensure = async () => {
    if (!root) {
      making ??= (async () => {
        const r = nativeRoot();
        await importBusybox();
        engine = new NativeEngine();
        root = r;
      })().finally(() => (making = undefined));
      await making;
    }
    return { root: root!, engine: engine! };
  };

  const t: NativeTest = {
    root: () => root!,
    engine: () => engine!,
    async container(spec, start = true) {
      const { engine: e } = await ensure();
      const { id } = await e.containers.create({ name: `t${process.pid}-${++n}`, image: BUSYBOX, labels: { 'io.tscompose.test': 'native-engine' }, networkMode: 'none', ...spec });
      if (start) await e.containers.start(id);
      return id;
    },
    async inspect(id) {
      const d = await engine!.containers.inspect(id);
      if (!d) throw new Error(`no container ${id}`);
      return d;
    },
    async until(id, ok, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const d = await t.inspect(id);
        if (ok(d)) return d;
        if (Date.now() > deadline) throw new Error(`container ${d.name} did not reach the state in ${ms} ms: ${d.state} ${d.status} health=${d.health} restarts=${d.restartCount} log=${JSON.stringify(d.healthLog)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async compose(args, file, input) {
      const { root: r } = await ensure();
      if (file !== undefined) writeFileSync(join(r.dir, 'compose.yaml'), file);
      return run(process.execPath, [cli, '--progress', 'plain', ...args], {
        cwd: r.dir, env: { ...process.env, ...r.env, CI: '1', NO_COLOR: '1', COMPOSE_PROJECT_NAME: 'netest' }, input,
      });
    },
    daemons() {
      const out: number[] = [];
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          if (argv[1] !== 'keep' && argv.some((a) => a.endsWith('daemon/main.js')) && argv.includes(root!.run)) out.push(Number(pid));
        } catch { /* gone */ }
      }
      return out;
    },
  };
  // Every test method that needs the root creates it on first use.
  const wrapped = t as NativeTest & { ready: () => Promise<unknown> };
  wrapped.ready = ensure;
  return wrapped;
}

export async function ready(t: NativeTest): Promise<void> {
  await (t as NativeTest & { ready: () => Promise<unknown> }).ready();
}
