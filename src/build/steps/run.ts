import type { Readable } from 'node:stream';
import { processStartTime } from '../../util/lock.js';
import { errorAt } from '../dockerfile/errors.js';
import type { Instruction } from '../dockerfile/instructions.js';
import { diffUpperDir, RUNTIME_MOUNT_POINTS } from '../fs/diff.js';
import type { StageState } from '../state.js';
import { argvOf } from './config.js';
import { atLine, type StepContext, type StepPlan } from './context.js';

/**
 * RUN: the command runs in a native-engine container made from the stage
 * as it stands (network `host` unless the build or the step says `none`),
 * its output streamed into the build's, and the container's upper dir
 * becomes the step's layer — without the mount points the runtime had to
 * create (/proc, /etc/hosts...) when the image lacks them. The container is
 * removed however the step ends; one a killed build left behind is removed
 * by the next build (its label names the builder process).
 */

type RunInstruction = Extract<Instruction, { kind: 'RUN' }>;

/** Label of a build's RUN containers: `<pid>-<start time>` of the building process. */
export const BUILD_OWNER_LABEL = 'org.tscompose.build.owner';

/** Proxy variables pass into RUN without an ARG, and stay out of the cache key (Docker's predefined ARGs). */
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export function buildOwner(): string {
  return `${process.pid}-${processStartTime(process.pid)}`;
}

export function planRun(ctx: StepContext, state: StageState, instr: RunInstruction): StepPlan {
  const argv = argvOf(instr.cmd, state);
  const network = instr.network ?? ctx.opts.network ?? 'host';
  const mode = network === 'none' ? 'none' : 'host';
  const createdBy = `RUN ${argv.join(' ')}`;
  return {
    description: `RUN ${JSON.stringify(argv)} network=${mode}`,
    createdBy,
    work: () => runInContainer(ctx, state, instr, argv, mode),
    apply: () => undefined,
  };
}

/**
 * The RUN's whole environment: the stage's ENV, its ARGs (ENV wins), proxy
 * settings. Given whole because the image the container is made from may be
 * one of the same layers but an older config.
 */
function runEnv(ctx: StepContext, state: StageState): string[] {
  const env = [...(state.image.Env ?? [])];
  const envNames = new Set(env.map((e) => e.split('=', 1)[0]!));
  for (const [k, v] of state.args) if (v !== undefined && !envNames.has(k)) env.push(`${k}=${v}`);
  for (const k of PROXY_ARGS) {
    if (Object.hasOwn(ctx.buildArgs, k) && !state.args.has(k) && !envNames.has(k)) {
      env.push(`${k}=${ctx.buildArgs[k]}`);
      ctx.usedArgs.add(k);
    }
  }
  return env;
}

async function runInContainer(ctx: StepContext, state: StageState, instr: RunInstruction, argv: string[], mode: 'host' | 'none'): Promise<{ diffId: string } | undefined> {
  const store = ctx.deps.store;
  const runtime = await ctx.runtime();
  const image = await ctx.materialize(state, true);
  let id: string;
  try {
    id = await runtime.create({
      image,
      cmd: argv,
      entrypoint: [],
      env: runEnv(ctx, state),
      workingDir: state.image.WorkingDir || '/',
      user: state.image.User || '0',
      network: { mode },
      labels: { [BUILD_OWNER_LABEL]: buildOwner() },
      ...(ctx.opts.extraHosts?.length ? { extraHosts: ctx.opts.extraHosts } : {}),
      ...(ctx.opts.shmSize ? { shmSize: ctx.opts.shmSize } : {}),
      ...(ctx.opts.memory ? { resources: { memory: ctx.opts.memory } } : {}),
    });
  } catch (err) {
    throw atLine(err, instr.pos, 'cannot create the RUN container');
  }
  ctx.say(` ---> Running in ${id.slice(0, 12)}`);
  const onAbort = () => { void runtime.kill(id).catch(() => undefined); };
  ctx.opts.signal?.addEventListener('abort', onAbort);
  try {
    let started;
    try {
      started = await runtime.start(id, { attach: { stdio: 'pipe' } });
    } catch (err) {
      throw atLine(err, instr.pos, `RUN ${argv.join(' ')}`);
    }
    const relays = [relayLines(started!.run.stdout, ctx.say), relayLines(started!.run.stderr, ctx.say)];
    const code = await started!.exit;
    await Promise.all(relays);
    if (ctx.opts.signal?.aborted) throw new DOMException('the build was cancelled', 'AbortError');
    if (code !== 0) {
      throw errorAt(instr.pos, `The command '${argv.join(' ')}' returned a non-zero code: ${code}`, 'Fix the command (or what it needs), then build again');
    }
    const layout = await store.rootfsLayout(id);
    if (!layout) throw new Error(`the RUN container ${id} has no root filesystem`);
    const diff = await diffUpperDir(layout.upperDir, { mountPoints: RUNTIME_MOUNT_POINTS, lowers: layout.lowerDirs });
    if (diff.empty) return undefined;
    const added = await store.addLayerFromTar(diff.stream!, { parent: state.top, what: `the layer of ${instr.pos.file}:${instr.pos.line}` });
    return { diffId: added.diffId };
  } finally {
    ctx.opts.signal?.removeEventListener('abort', onAbort);
    await runtime.remove(id, { force: true, volumes: true }).catch(() => undefined);
    ctx.say(`Removing intermediate container ${id.slice(0, 12)}`);
  }
}

/** The command's output, line by line (a last line without newline too). */
async function relayLines(stream: Readable | null, say: (line: string) => void): Promise<void> {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      say(rest.slice(0, nl).replace(/\r$/, ''));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) say(rest);
}
