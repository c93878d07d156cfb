import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { errorAt, type Position } from '../dockerfile/errors.js';
import type { Instruction } from '../dockerfile/instructions.js';
import { cleanRelative, compilePattern, hasGlob } from '../context/patterns.js';
import { copyIntoRoot, mkdirInRoot, type Owner } from '../fs/copy.js';
import { diffUpperDir } from '../fs/diff.js';
import { mountStack, type MountedStack } from '../fs/overlay.js';
import { resolveInRoot } from '../fs/scoped.js';
import { StageState } from '../state.js';
import { resolveBaseImage } from '../base.js';
import { resolveChown } from './users.js';
import type { Download } from './url.js';
import { downloadUrl } from './url.js';
import { archiveKind, extractArchiveInRoot } from '../fs/archive.js';
import { atLine, expand, type StepContext, type StepPlan } from './context.js';

/**
 * The steps that write files: COPY and ADD (from the build context, another
 * stage, an image, or a URL for ADD; local archives unpacked by ADD), and
 * WORKDIR's directory. Each mounts the stage's layers with a fresh upper
 * dir, writes through the mount, and turns the upper dir into the step's
 * layer.
 */

type CopyInstruction = Extract<Instruction, { kind: 'COPY' | 'ADD' }>;
type WorkdirInstruction = Extract<Instruction, { kind: 'WORKDIR' }>;

/** Mounts the stage, lets `write` change it, and stores the difference as a layer on top of it. */
export async function layerFrom(ctx: StepContext, state: StageState, pos: Position, write: (m: MountedStack) => Promise<void>): Promise<{ diffId: string } | undefined> {
  const m = await mountStack(ctx.deps.store, state.chainIds, true);
  try {
    await write(m);
    await m.unmount();
    const diff = await diffUpperDir(m.upper!);
    if (diff.empty) return undefined;
    const added = await ctx.deps.store.addLayerFromTar(diff.stream!, { parent: state.top, what: `the layer of ${pos.file}:${pos.line}` });
    return { diffId: added.diffId };
  } finally {
    await m.close();
  }
}

export function planWorkdir(ctx: StepContext, state: StageState, instr: WorkdirInstruction): StepPlan {
  const path = expand(instr.path, state.env, ctx, instr.pos);
  if (!path) throw errorAt(instr.pos, 'WORKDIR requires exactly one argument (it expanded to nothing)');
  const abs = posix.resolve(state.image.WorkingDir || '/', path);
  return {
    description: `WORKDIR ${abs}`,
    createdBy: `WORKDIR ${abs}`,
    work: existsInLayers(ctx, state, abs) ? undefined : () => layerFrom(ctx, state, instr.pos, async (m) => {
      try {
        mkdirInRoot(m.merged, abs, undefined);
      } catch (err) {
        throw atLine(err, instr.pos, `WORKDIR ${abs}`);
      }
    }),
    apply: (s) => { s.image.WorkingDir = abs; },
  };
}

/** True when the layers have `abs` as a plain directory (no symlink on the way): nothing to create. */
function existsInLayers(ctx: StepContext, state: StageState, abs: string): boolean {
  if (abs === '/') return true;
  const rel = abs.replace(/^\/+/, '');
  for (const chainId of [...state.chainIds].reverse()) {
    let st: Stats;
    try {
      st = lstatSync(join(ctx.deps.store.paths.layerDiff(chainId), rel));
    } catch {
      continue;
    }
    return st.isDirectory() && rel.split('/').every((_, i, parts) => isPlainDir(ctx, state, parts.slice(0, i + 1).join('/')));
  }
  return false;
}

function isPlainDir(ctx: StepContext, state: StageState, rel: string): boolean {
  for (const chainId of [...state.chainIds].reverse()) {
    try {
      return lstatSync(join(ctx.deps.store.paths.layerDiff(chainId), rel)).isDirectory();
    } catch { /* below */ }
  }
  return false;
}

function parseChmod(text: string, pos: Position): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw errorAt(pos, `invalid --chmod=${text}`, 'Give octal permission bits, e.g. --chmod=755');
  return parseInt(text, 8);
}

export async function planCopy(ctx: StepContext, state: StageState, instr: CopyInstruction): Promise<StepPlan> {
  const env = state.env;
  const pos = instr.pos;
  const chownText = instr.chown !== undefined ? expand(instr.chown, env, ctx, pos) : undefined;
  const chmod = instr.chmod !== undefined ? parseChmod(expand(instr.chmod, env, ctx, pos), pos) : undefined;
  const destText = expand(instr.dest, env, ctx, pos);
  if (!destText) throw errorAt(pos, `${instr.kind} destination expanded to nothing`);
  const dest = posix.resolve(state.image.WorkingDir || '/', destText);
  const dirSyntax = destText.endsWith('/') || destText.endsWith('/.') || destText === '.';
  const sources = instr.sources.map((s) => expand(s, env, ctx, pos));
  const flags = [instr.chown !== undefined ? `--chown=${chownText}` : '', chmod !== undefined ? `--chmod=${chmod.toString(8)}` : ''].filter(Boolean).join(' ');
  const createdBy = `${instr.kind} ${flags ? `${flags} ` : ''}${sources.join(' ')} ${destText}`;
  const copyOpts = (m: MountedStack): { chown?: Owner; chmod?: number } => ({
    ...(chownText !== undefined ? { chown: resolveChown(m.merged, chownText, pos) } : {}),
    ...(chmod !== undefined ? { chmod } : {}),
  });
  const tooMany = () => errorAt(pos, `When using ${instr.kind} with more than one source file, the destination must be a directory and end with a /`);

  if (instr.from !== undefined) {
    const from = expand(instr.from, env, ctx, pos);
    const source = await sourceStage(ctx, from, pos);
    if (sources.length > 1 && !dirSyntax) throw tooMany();
    return {
      description: `${createdBy} from ${source.key}`,
      createdBy: `${instr.kind} --from=${from} ${createdBy.slice(instr.kind.length + 1)}`,
      work: async () => {
        const src = await mountStack(ctx.deps.store, source.chainIds, false);
        try {
          const entries = sources.flatMap((s) => stageSources(src.merged, s, pos));
          if (entries.length > 1 && !dirSyntax) throw tooMany();
          return await layerFrom(ctx, state, pos, async (m) => {
            const o = copyOpts(m);
            for (const e of entries) await guarded(() => copyIntoRoot(m.merged, e, dest, dirSyntax || entries.length > 1, o), pos, createdBy);
          });
        } finally {
          await src.close();
        }
      },
      apply: () => undefined,
    };
  }

  const downloads: Download[] = [];
  const isUrl = (s: string) => /^https?:\/\//i.test(s);
  const local = sources.filter((s) => !(instr.kind === 'ADD' && isUrl(s)));
  if (instr.kind === 'ADD' && sources.some(isUrl)) {
    for (const s of sources.filter(isUrl)) downloads.push(await downloadUrl(ctx, s, instr.checksum, pos));
  } else if (instr.checksum !== undefined) {
    throw errorAt(pos, '--checksum applies to ADD of a URL only');
  }
  const entries = local.flatMap((s) => ctx.context.sources(s, pos));
  if ((entries.length + downloads.length > 1 || sources.length > 1) && !dirSyntax) throw tooMany();
  const hash = await ctx.context.hash(entries);
  const intoDir = dirSyntax || entries.length + downloads.length > 1;
  return {
    description: `${createdBy} ${hash} ${downloads.map((d) => d.digest).join(' ')}`,
    createdBy,
    work: () => layerFrom(ctx, state, pos, async (m) => {
      const o = copyOpts(m);
      for (const e of entries) {
        const base = relative(ctx.context.root, e.path);
        const at = (below: string) => (base ? `${base}/${below}` : below);
        const filter = { include: (below: string) => !ctx.context.ignore.ignores(at(below)), descend: (below: string) => !ctx.context.ignore.canSkipDir(at(below)) };
        const kind = instr.kind === 'ADD' && e.st.isFile() ? archiveKind(e.path) : undefined;
        if (kind) {
          await guarded(async () => {
            mkdirInRoot(m.merged, dest, o.chown);
            await extractArchiveInRoot(m.merged, e.path, kind, dest);
          }, pos, `${createdBy}: unpacking ${e.rel}`);
          continue;
        }
        await guarded(() => copyIntoRoot(m.merged, e, dest, intoDir, o, filter), pos, createdBy);
      }
      for (const d of downloads) {
        const target = intoDir ? posix.join(dest, d.filename) : dest;
        await guarded(() => copyIntoRoot(m.merged, { path: d.path, st: lstatSync(d.path) }, target, false, { ...o, chmod: o.chmod ?? 0o600 }), pos, createdBy);
      }
    }),
    apply: () => undefined,
    ...(downloads.length ? { dispose: () => { for (const d of downloads) d.dispose(); } } : {}),
  };
}

async function guarded<T>(fn: () => Promise<T> | T, pos: Position, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw atLine(err, pos, what);
  }
}

/** The stage (or image) a COPY --from names. */
async function sourceStage(ctx: StepContext, from: string, pos: Position): Promise<StageState> {
  const byName = ctx.stageByName.get(from.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(from)) {
    const byIndex = ctx.stageByIndex.get(Number(from));
    if (byIndex) return byIndex;
    throw errorAt(pos, `COPY --from=${from}: there is no build stage ${from} before this one`, 'Stages are numbered from 0 in the order of their FROM lines');
  }
  if (ctx.file.stages.some((s) => s.name === from.toLowerCase())) {
    throw errorAt(pos, `COPY --from=${from}: the stage ${from} is defined after this instruction (or is this stage)`, 'Copy only from earlier stages');
  }
  const image = await resolveBaseImage(ctx.deps, from, ctx.opts, pos, ctx.say);
  return StageState.fromImage(image, `image ${image.id}`);
}

/** COPY --from sources: paths (or globs) in another stage's mounted root. */
function stageSources(root: string, source: string, pos: Position): { path: string; st: Stats }[] {
  const cleaned = cleanRelative(source);
  if (hasGlob(source)) {
    const re = compilePattern(cleaned);
    const out: { path: string; st: Stats }[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(root, rel)).sort()) {
        const childRel = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(root, childRel));
        if (re.test(childRel)) out.push({ path: join(root, childRel), st });
        else if (st.isDirectory()) walk(childRel);
      }
    };
    walk('');
    if (!out.length) throw errorAt(pos, `no source files were specified: nothing in the source stage matches ${source}`);
    return out;
  }
  const r = resolveInRoot(root, cleaned);
  if (!r.st) throw errorAt(pos, `"${source}" not found in the source stage: stat /${cleaned}: no such file or directory`);
  return [{ path: r.path, st: r.st }];
}
