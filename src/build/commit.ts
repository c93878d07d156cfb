import { posix } from 'node:path';
import { UserError } from '../util/errors.js';
import { normalizeTaggedName, type ImageRecord, type OciImage } from '../engine/native/image/index.js';
import { DockerfileError } from './dockerfile/errors.js';
import { parseTrigger } from './dockerfile/instructions.js';
import { diffUpperDir, RUNTIME_MOUNT_POINTS } from './fs/diff.js';
import { StageState } from './state.js';
import { isConfigInstruction, planConfigStep } from './steps/config.js';
import type { ConfigContext } from './steps/context.js';
import type { CommitDeps } from './types.js';

/**
 * `docker commit`: a container's changes (its overlay upper dir, diffed as
 * a RUN step's are) become one more layer on its image, and its settings
 * (env, command, entrypoint, workdir, user, labels, volumes, stop signal)
 * the new image's config, with an author, a message and `--change`
 * instructions. A container whose files did not change gets no layer, only
 * a history entry.
 */

export interface CommitOptions {
  /** NAME[:TAG] for the new image. */
  tag?: string;
  author?: string;
  message?: string;
  /** Dockerfile instructions applied to the config (CMD, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, ENTRYPOINT, ONBUILD, STOPSIGNAL). */
  changes?: string[];
}

const CHANGE_KINDS = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'HEALTHCHECK']);

export async function commitContainer(deps: CommitDeps, containerRef: string, opts: CommitOptions = {}): Promise<ImageRecord> {
  if (opts.tag) normalizeTaggedName(opts.tag);
  const { runtime, store } = deps;
  const id = runtime.resolve(containerRef);
  const info = await runtime.inspect(id);
  const layout = await store.rootfsLayout(id);
  if (!layout) throw new UserError(`container ${containerRef} has no root filesystem in the image store`, 1, 'Only containers of the native engine can be committed');
  const image = await store.get(layout.imageId);

  const config = fromContainer(image.config, info.Config);
  const withChanges = applyConfigChanges(config, opts.changes ?? []);
  const diff = await diffUpperDir(layout.upperDir, { mountPoints: RUNTIME_MOUNT_POINTS, lowers: layout.lowerDirs });
  const created = new Date().toISOString();
  if (!diff.empty) {
    const added = await store.addLayerFromTar(diff.stream!, { parent: image.chainIds[image.chainIds.length - 1] ?? null, what: `the changes of container ${info.Name.replace(/^\//, '')}` });
    withChanges.rootfs.diff_ids.push(added.diffId);
  }
  withChanges.created = created;
  if (opts.author) withChanges.author = opts.author;
  withChanges.container = id;
  withChanges.history = [...(withChanges.history ?? []), {
    created,
    created_by: [info.Path, ...info.Args].join(' '),
    ...(opts.author ? { author: opts.author } : {}),
    ...(opts.message ? { comment: opts.message } : {}),
    ...(diff.empty ? { empty_layer: true } : {}),
  }];
  const { image: committed } = await store.addImage(Buffer.from(JSON.stringify(withChanges)), { tags: opts.tag ? [opts.tag] : [] });
  return committed;
}

/** The image's config with the container's own settings over it, as Docker's commit merges them. */
function fromContainer(base: OciImage, c: Awaited<ReturnType<CommitDeps['runtime']['inspect']>>['Config']): OciImage {
  const config: OciImage = structuredClone(base);
  delete config.container_config;
  const cfg = { ...(config.config ?? {}) };
  cfg.Env = c.Env;
  cfg.Cmd = c.Cmd;
  cfg.Entrypoint = c.Entrypoint;
  cfg.WorkingDir = c.WorkingDir;
  cfg.User = c.User;
  cfg.Labels = { ...(base.config?.Labels ?? {}), ...c.Labels };
  if (c.Volumes) cfg.Volumes = c.Volumes;
  if (c.StopSignal) cfg.StopSignal = c.StopSignal;
  config.config = cfg;
  return config;
}

/** `--change` instructions applied to a config (as a Dockerfile would, without running anything). */
export function applyConfigChanges(config: OciImage, changes: string[]): OciImage {
  const state = new StageState(structuredClone(config), '', config.created ?? '', undefined);
  const ctx: ConfigContext = { file: { escape: '\\' }, buildArgs: {}, usedArgs: new Set(), globalArgs: new Map() };
  changes.forEach((change, i) => {
    const pos = { file: '--change', line: i + 1 };
    const instr = parseTrigger(change, pos, '\\');
    if (!CHANGE_KINDS.has(instr.kind)) {
      throw new DockerfileError(pos.file, pos.line, `${instr.kind} cannot be applied with --change`, `Use one of ${[...CHANGE_KINDS].join(', ')}`);
    }
    if (instr.kind === 'WORKDIR') {
      state.image.WorkingDir = posix.resolve(state.image.WorkingDir || '/', instr.path);
      return;
    }
    if (isConfigInstruction(instr)) planConfigStep(ctx, state, instr).apply(state);
  });
  return state.config;
}
