import { UserError } from '../util/errors.js';
import { importRootfsTar, parseReference, withDefaultTag, familiarString, type ImageRecord, type ImageStore } from '../engine/native/image/index.js';
import { bootstrapDebianRootfs, isDebianSuite } from './debian-bootstrap.js';

/**
 * `tscompose image bootstrap debian:<suite>`: a Debian base image made on
 * this machine (debootstrap from the host's apt mirror, by
 * src/build/debian-bootstrap.ts) and imported into the image store under
 * that name, with the config Docker Hub's debian image has. For machines
 * that reach no registry, and for builds whose `FROM debian:<suite>` cannot
 * be pulled.
 */

export interface BootstrapImageOptions {
  /** Keep (and reuse) the rootfs tar there. */
  cacheDir?: string;
  /** Make it again even when a cached tar exists. */
  refresh?: boolean;
  onLine?: (line: string) => void;
}

/** The suite when `ref` is Docker Hub's debian:<suite> and debootstrap knows the suite; undefined otherwise. */
export function debianSuiteOf(ref: string): string | undefined {
  let parsed;
  try {
    parsed = withDefaultTag(parseReference(ref));
  } catch {
    return undefined;
  }
  if (parsed.domain !== 'docker.io' || parsed.path !== 'library/debian' || parsed.digest !== undefined || !parsed.tag) return undefined;
  const suite = parsed.tag.replace(/-slim$/, '');
  return isDebianSuite(suite) ? suite : undefined;
}

export async function bootstrapDebianImage(store: ImageStore, ref: string, opts: BootstrapImageOptions = {}): Promise<ImageRecord> {
  const parsed = withDefaultTag(parseReference(ref));
  if (parsed.domain !== 'docker.io' || parsed.path !== 'library/debian' || !parsed.tag) {
    throw new UserError(`image bootstrap makes Debian base images only: ${ref} is not debian:<suite>`, 1, 'e.g. tscompose image bootstrap debian:bookworm');
  }
  const suite = parsed.tag;
  const rootfs = await bootstrapDebianRootfs({
    suite,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.refresh ? { refresh: true } : {}),
    ...(opts.onLine ? { onProgress: opts.onLine } : {}),
  });
  try {
    opts.onLine?.(`importing the root filesystem${rootfs.cached ? ' (cached)' : ''} as ${familiarString(parsed)}`);
    const { image } = await importRootfsTar(store, rootfs.tarPath, {
      tags: [familiarString(parsed)],
      changes: [...rootfs.config.Env.map((e) => `ENV ${e}`), `CMD ${JSON.stringify(rootfs.config.Cmd)}`],
      message: `debootstrap --variant=minbase ${suite} from ${rootfs.mirrors.mirror}`,
    });
    return image;
  } finally {
    rootfs.dispose();
  }
}
