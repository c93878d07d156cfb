import { createHash } from 'node:crypto';
import { chainIds, ociArchitecture, type ImageRecord, type OciImage, type OciImageConfig } from '../engine/native/image/index.js';

/**
 * Where a build stage stands after each step: the image config being
 * written (its env, workdir, user, cmd... and history), the layer stack,
 * the cache key so far, the ARGs the stage declared, the SHELL. Steps read
 * it to expand variables and run commands, and change it.
 */

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export class StageState {
  config: OciImage;
  key: string;
  /** When the last step was first made (the image's `created`). */
  created: string;
  /** The store image that is exactly this state (the FROM image, or one made for a RUN); undefined after any change. */
  imageId: string | undefined;
  /** ARGs declared in this stage, with their values (undefined: declared without a value). */
  readonly args = new Map<string, string | undefined>();
  shell: string[];
  /** True once CMD is set in this stage (ENTRYPOINT then keeps it). */
  cmdSet = false;

  constructor(config: OciImage, key: string, created: string, imageId: string | undefined) {
    this.config = config;
    this.key = key;
    this.created = created;
    this.imageId = imageId;
    this.shell = config.config?.Shell?.length ? [...config.config.Shell] : [...DEFAULT_SHELL];
  }

  /** A fresh state from an image in the store (FROM image). */
  static fromImage(image: ImageRecord, key: string): StageState {
    const base = image.config;
    const config: OciImage = {
      architecture: base.architecture || ociArchitecture(),
      os: base.os || 'linux',
      ...(base.variant ? { variant: base.variant } : {}),
      config: cloneConfig(base.config ?? {}),
      rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids] },
      history: [...(base.history ?? [])],
    };
    if (base.author) config.author = base.author;
    return new StageState(config, key, base.created ?? image.created, image.id);
  }

  static scratch(key: string): StageState {
    const config: OciImage = { architecture: ociArchitecture(), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    return new StageState(config, key, new Date(0).toISOString(), undefined);
  }

  /** A copy for a stage that starts FROM another stage. */
  fork(): StageState {
    const s = new StageState(structuredClone(this.config), this.key, this.created, this.imageId);
    s.shell = [...this.shell];
    return s;
  }

  get image(): OciImageConfig {
    this.config.config ??= {};
    return this.config.config;
  }

  get chainIds(): string[] {
    return chainIds(this.config.rootfs.diff_ids);
  }

  /** The chain id of the top layer, or null for an empty stack. */
  get top(): string | null {
    const c = this.chainIds;
    return c.length ? c[c.length - 1]! : null;
  }

  /** What `$VAR` means in this stage: declared ARGs, overridden by ENV (as Docker resolves them). */
  get env(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.args) if (v !== undefined) out.set(k, v);
    for (const e of this.image.Env ?? []) {
      const eq = e.indexOf('=');
      if (eq > 0) out.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return out;
  }

  setEnv(name: string, value: string): void {
    const env = [...(this.image.Env ?? [])];
    const i = env.findIndex((e) => e === name || e.startsWith(`${name}=`));
    if (i >= 0) env[i] = `${name}=${value}`;
    else env.push(`${name}=${value}`);
    this.image.Env = env;
  }

  addLayer(diffId: string): void {
    this.config.rootfs.diff_ids.push(diffId);
  }

  addHistory(createdBy: string, created: string, emptyLayer: boolean, comment?: string): void {
    this.config.history ??= [];
    this.config.history.push({ created, created_by: createdBy, ...(comment ? { comment } : {}), ...(emptyLayer ? { empty_layer: true } : {}) });
  }

  /** The config document of this state, as the image it would be. */
  document(opts: { forRun?: boolean } = {}): OciImage {
    const doc = structuredClone(this.config);
    doc.created = this.created;
    // A RUN step's container gets no anonymous volumes for the image's VOLUMEs: what RUN writes there stays in the layer.
    if (opts.forRun && doc.config?.Volumes) delete doc.config.Volumes;
    return doc;
  }

  /** A short id for the state, for `---> <id>` lines. */
  get shortId(): string {
    return createHash('sha256').update(this.key).digest('hex').slice(0, 12);
  }
}

function cloneConfig(c: OciImageConfig): OciImageConfig {
  const out = structuredClone(c);
  // Fields Docker keeps per image, not per config: a new image starts without them.
  delete out.Hostname;
  delete out.Domainname;
  delete out.Image;
  delete out.AttachStdin;
  delete out.AttachStdout;
  delete out.AttachStderr;
  delete out.Tty;
  delete out.OpenStdin;
  delete out.StdinOnce;
  return out;
}
