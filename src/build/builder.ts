import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { statePath } from '../util/paths.js';
import { basename, isAbsolute, join, relative } from 'node:path';
import { UserError } from '../util/errors.js';
import { chainIdOf, normalizeTaggedName, sha256Digest, type ImageRecord } from '../engine/native/image/index.js';
import { processStartTime } from '../util/lock.js';
import { BuildCache, stepKey } from './cache.js';
import { BuildContext } from './context/context.js';
import { errorAt } from './dockerfile/errors.js';
import { loadBuildFile, parseTrigger, type BuildFile, type Instruction, type Stage } from './dockerfile/instructions.js';
import { unmountStale } from './fs/overlay.js';
import { BuildJournal } from './journal.js';
import { checkPlatform, resolveBaseImage } from './base.js';
import { StageState } from './state.js';
import { baseOf, globalArgValues, neededStages, targetStage } from './stages.js';
import { isConfigInstruction, planConfigStep } from './steps/config.js';
import { planCopy, planWorkdir } from './steps/files.js';
import { BUILD_OWNER_LABEL, planRun } from './steps/run.js';
import type { StepContext, StepPlan } from './steps/context.js';
import type { BuildDeps, BuildOptions, BuildResult, StepReport } from './types.js';
import type { ContainerRuntime } from '../engine/native/runtime/index.js';

/**
 * `docker build` on the native engine: the Dockerfile parsed and checked
 * whole before anything runs, then the needed stages step by step, each
 * step a cache hit (same key: nothing runs, the recorded layer and time are
 * reused) or run for real. Output as the classic builder prints it. The
 * image is stored and tagged only when every step succeeded; the untagged
 * images made along the way for RUN steps are removed, except one per
 * earlier stage that the result does not contain (its layers are that
 * stage's cache, as Docker's classic builder keeps them); after a failure
 * they are all removed and no tag moves.
 */
export async function buildImage(deps: BuildDeps, opts: BuildOptions): Promise<BuildResult> {
  const say = (line: string) => opts.onLine?.(line);
  if (!existsSync(opts.context)) throw new UserError(`unable to prepare context: path "${opts.context}" not found`, 1, 'Give the build context directory (usually .)');
  const { file, dockerfilePath } = readDockerfile(opts);
  const context = BuildContext.open(opts.context, dockerfilePath);
  const hashFile = statePath('build', 'hashes', `${createHash('sha256').update(context.root).digest('hex')}.json`);
  context.loadHashes(hashFile);
  const tags = (opts.tags ?? []).map((t) => {
    normalizeTaggedName(t);
    return t;
  });
  if (opts.platform) await checkPlatform(opts.platform, (host) => new UserError(`cannot build for ${opts.platform} here: only ${host} images can be built (RUN steps run on this machine)`));
  const buildArgs = opts.args ?? {};
  const usedArgs = new Set<string>();
  const globals = globalArgValues(file, buildArgs, usedArgs);
  const target = targetStage(file, opts.target);
  const stages = neededStages(file, target, globals);
  const labelStep = opts.labels && Object.keys(opts.labels).length ? 1 : 0;
  const total = stages.reduce((n, s) => n + 1 + s.instructions.length, 0) + labelStep;
  for (const w of file.warnings) say(`[WARNING]: ${w}`);
  await unmountStale(deps.store);

  // Images made for RUN steps, journaled so that a killed build's are removed by the next one.
  const recovered = await BuildJournal.recover(deps.store);
  const journal = new BuildJournal();
  const created = new Set<string>();
  const track = (id: string) => {
    created.add(id);
    journal.add(id);
  };
  const runImages = new Map<string, string>();
  const ctx: StepContext = {
    deps, opts, file, context, buildArgs, usedArgs, globalArgs: globals, say,
    stageByName: new Map(), stageByIndex: new Map(),
    runtime: lazyRuntime(deps),
    materialize: (state, forRun) => materialize(deps, state, forRun, track, runImages),
  };
  // A killed build's RUN container still holds its image: remove the container (opening the runtime) first.
  if (recovered.pending) await ctx.runtime();
  const cache = new BuildCache();
  const steps: StepReport[] = [];
  let n = 0;
  const runStep = async (state: StageState, stage: Stage, instr: Instruction, announce: boolean) => {
    if (opts.signal?.aborted) throw new DOMException('the build was cancelled', 'AbortError');
    if (announce) say(`Step ${++n}/${total} : ${instr.node.original}`);
    const report = await step(ctx, cache, state, instr);
    steps.push({ n, stage: stage.index, instruction: instr.node.original, line: instr.pos.line, ...report });
  };

  try {
    let final: StageState | undefined;
    for (const stage of stages) {
      say(`Step ${++n}/${total} : ${stage.node.original}`);
      const state = await fromStep(ctx, stage, globals);
      say(` ---> ${state.imageId ? state.imageId.slice(7, 19) : state.shortId}`);
      const triggers = state.image.OnBuild ?? [];
      if (triggers.length) {
        say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}`);
        state.image.OnBuild = null;
        for (const t of triggers) await runStep(state, stage, parseTrigger(t, stage.pos, file.escape), false);
      }
      for (const instr of stage.instructions) await runStep(state, stage, instr, true);
      if (stage === target && labelStep) {
        const labels = Object.entries(opts.labels!);
        const original = `LABEL ${labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}`;
        // Quoted so that the values stay literal through variable expansion.
        const pairs = labels.map(([k, v]) => [quoteLiteral(k), quoteLiteral(v)] as [string, string]);
        await runStep(state, stage, { kind: 'LABEL', pairs, pos: stage.pos, node: { ...stage.node, instruction: 'LABEL', original } }, true);
      }
      ctx.stageByIndex.set(stage.index, state);
      if (stage.name) ctx.stageByName.set(stage.name, state);
      final = state;
    }
    const { image } = await deps.store.addImage(Buffer.from(JSON.stringify(final!.document())), { tags });
    const keep = new Set([image.id]);
    const keptChains = [image.chainIds];
    for (const stage of stages.slice(0, -1).reverse()) {
      const s = ctx.stageByIndex.get(stage.index)!;
      if (!s.top || keptChains.some((c) => c.includes(s.top!))) continue;
      const id = await materialize(deps, s, false, track, runImages);
      keep.add(id);
      keptChains.push(s.chainIds);
    }
    await removeImages(deps, [...created].filter((id) => !keep.has(id)));
    journal.done();
    context.saveHashes(hashFile);
    const unused = Object.keys(buildArgs).filter((k) => !usedArgs.has(k));
    const warnings = [...file.warnings];
    if (unused.length) {
      const w = `One or more build-args [${unused.join(' ')}] were not consumed`;
      warnings.push(w);
      say(`[Warning] ${w}`);
    }
    say(`Successfully built ${image.id.slice(7, 19)}`);
    for (const t of tags) say(`Successfully tagged ${normalizeFamiliar(image, t)}`);
    return {
      imageId: image.id, tags, steps, warnings,
      cacheHits: steps.filter((s) => s.cached).length,
      cacheMisses: steps.filter((s) => !s.cached).length,
    };
  } catch (err) {
    await removeImages(deps, [...created]);
    journal.done();
    throw err;
  }
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function normalizeFamiliar(image: ImageRecord, tag: string): string {
  const full = normalizeTaggedName(tag);
  return image.repoTags.find((t) => full.endsWith(t.includes('/') ? t : `/${t}`)) ?? tag;
}

function readDockerfile(opts: BuildOptions): { file: BuildFile; dockerfilePath: string | undefined } {
  if (opts.dockerfileInline !== undefined) return { file: loadBuildFile(opts.dockerfileInline, 'Dockerfile'), dockerfilePath: undefined };
  const given = opts.dockerfile ?? 'Dockerfile';
  const path = isAbsolute(given) ? given : join(opts.context, given);
  if (!existsSync(path)) {
    throw new UserError(`failed to read the Dockerfile: ${path}: no such file`, 1, opts.dockerfile ? 'Check the path given to -f / dockerfile:' : 'Put a Dockerfile in the build context, or name one with -f');
  }
  const rel = relative(opts.context, path);
  const display = rel && !rel.startsWith('..') ? rel : basename(path);
  return { file: loadBuildFile(readFileSync(path, 'utf8'), display), dockerfilePath: path };
}

async function fromStep(ctx: StepContext, stage: Stage, globals: Map<string, string | undefined>): Promise<StageState> {
  const ref = baseOf(ctx.file, stage, globals);
  if (stage.platform !== undefined) {
    const p = baseOf(ctx.file, { ...stage, base: stage.platform }, globals);
    await checkPlatform(p, (host) => errorAt(stage.pos, `FROM --platform=${p}: only ${host} can be built here`));
  }
  if (!ref) throw errorAt(stage.pos, `FROM ${stage.base}: the image name expanded to nothing`, 'Give the ARG a value (--build-arg) or a default');
  const lower = ref.toLowerCase();
  const previous = ctx.file.stages.slice(0, stage.index).find((s) => s.name === lower);
  if (previous) {
    const state = ctx.stageByIndex.get(previous.index);
    if (!state) throw errorAt(stage.pos, `FROM ${ref}: stage ${ref} was not built`);
    return state.fork();
  }
  if (lower === 'scratch') return StageState.scratch(stepKey('', null, 'FROM scratch'));
  const image = await resolveBaseImage(ctx.deps, ref, ctx.opts, stage.pos, ctx.say);
  return StageState.fromImage(image, stepKey('', null, `FROM ${image.id}`));
}

async function plan(ctx: StepContext, state: StageState, instr: Instruction): Promise<StepPlan> {
  if (isConfigInstruction(instr)) return planConfigStep(ctx, state, instr);
  switch (instr.kind) {
    case 'RUN': return planRun(ctx, state, instr);
    case 'COPY': case 'ADD': return planCopy(ctx, state, instr);
    case 'WORKDIR': return planWorkdir(ctx, state, instr);
    default: throw errorAt((instr as Instruction).pos, `${(instr as Instruction).kind} cannot be used here`);
  }
}

/** One step: from the cache when its key is known and its layer still stored, run otherwise. */
async function step(ctx: StepContext, cache: BuildCache, state: StageState, instr: Instruction): Promise<{ cached: boolean; chainId?: string }> {
  const p = await plan(ctx, state, instr);
  try {
    const key = stepKey(state.key, state.top, p.description);
    const rec = ctx.opts.noCache ? undefined : cache.get(key);
    const usable = rec && (!rec.chainId || (rec.diffId && ctx.deps.store.layer(rec.chainId) && chainIdOf(state.top, rec.diffId) === rec.chainId));
    let diffId: string | undefined;
    let created: string;
    if (usable) {
      diffId = rec.diffId;
      created = rec.created;
      ctx.say(' ---> Using cache');
    } else {
      diffId = (await p.work?.())?.diffId;
      created = new Date().toISOString();
    }
    if (diffId) state.addLayer(diffId);
    if (!usable) cache.put({ key, created, ...(diffId ? { chainId: state.top!, diffId } : {}) });
    state.addHistory(p.createdBy, created, !diffId);
    p.apply(state);
    state.key = key;
    state.created = created;
    state.imageId = undefined;
    ctx.say(` ---> ${state.shortId}`);
    return { cached: !!usable, ...(diffId ? { chainId: state.top! } : {}) };
  } finally {
    p.dispose?.();
  }
}

/**
 * An image of the state in the store. For RUN only the layers matter (the
 * container gets env, user and workdir from the step), so one image per
 * layer stack serves every RUN on it: the state's own when it has one and
 * no VOLUMEs, else one made without them.
 */
async function materialize(deps: BuildDeps, state: StageState, forRun: boolean, track: (id: string) => void, runImages: Map<string, string>): Promise<string> {
  const stack = state.top ?? 'empty';
  if (forRun) {
    const known = runImages.get(stack);
    if (known && (await deps.store.resolve(known))) return known;
    if (state.imageId && !state.image.Volumes) {
      runImages.set(stack, state.imageId);
      return state.imageId;
    }
  } else if (state.imageId) {
    return state.imageId;
  }
  const bytes = Buffer.from(JSON.stringify(state.document({ forRun })));
  const id = sha256Digest(bytes);
  const existed = await deps.store.resolve(id);
  // Journaled before it exists: a crash in between leaves at worst a journal entry for nothing.
  if (!existed) track(id);
  await deps.store.addImage(bytes);
  if (forRun) runImages.set(stack, id);
  else state.imageId = id;
  return id;
}

async function removeImages(deps: BuildDeps, ids: string[]): Promise<void> {
  for (const id of ids) await deps.store.remove(id).catch(() => undefined);
}

/** The runtime on first use, after removing the RUN containers of builds that died (killed, crashed) before cleaning up. */
function lazyRuntime(deps: BuildDeps): () => Promise<ContainerRuntime> {
  let opened: Promise<ContainerRuntime> | undefined;
  return () => {
    opened ??= (async () => {
      const runtime = typeof deps.runtime === 'function' ? await deps.runtime() : deps.runtime;
      const leftovers = await runtime.list({ all: true, labels: { [BUILD_OWNER_LABEL]: undefined } });
      let removed = 0;
      for (const c of leftovers) {
        const owner = /^(\d+)-(\d+)$/.exec(c.Labels[BUILD_OWNER_LABEL] ?? '');
        if (owner && processStartTime(Number(owner[1])) === owner[2]) continue;
        await runtime.remove(c.Id, { force: true, volumes: true }).then(() => removed++, () => undefined);
      }
      // Their images were kept for them: now they can go.
      if (removed) await BuildJournal.recover(deps.store);
      return runtime;
    })();
    return opened;
  };
}
