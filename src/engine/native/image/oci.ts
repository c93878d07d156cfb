import { createHash } from 'node:crypto';

/**
 * The OCI image format's JSON documents (image-spec config.md, manifest.md,
 * image-index.md), typed as far as tscompose reads them. Unknown fields are
 * kept: the config is stored byte for byte (its digest is the image id), and
 * Docker writes extra fields (container, docker_version...) that inspect shows.
 */

/** Healthcheck as Docker stores it in the config: durations in nanoseconds. */
export interface OciHealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The execution parameters a container started from the image gets by default. */
export interface OciImageConfig {
  User?: string;
  ExposedPorts?: Record<string, object> | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: OciHealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  StopTimeout?: number;
  [extra: string]: unknown;
}

export interface OciHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface OciRootFs {
  type: 'layers' | string;
  diff_ids: string[];
}

/** The image config document; its sha256 is the image id. */
export interface OciImage {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config?: OciImageConfig;
  rootfs: OciRootFs;
  history?: OciHistory[];
  [extra: string]: unknown;
}

export interface OciPlatform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: OciPlatform;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: OciDescriptor[];
  annotations?: Record<string, string>;
}

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MediaType.ociLayer,
  MediaType.ociLayerGzip,
  MediaType.ociLayerZstd,
  MediaType.ociLayerNondistributable,
  MediaType.ociLayerNondistributableGzip,
  MediaType.dockerLayerGzip,
  MediaType.dockerLayerForeignGzip,
];

/** Annotations Docker 25+ writes on index.json entries (containerd's and the OCI spec's names). */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

/** The 64 hex characters of a `sha256:` digest. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return digest.slice('sha256:'.length);
}

/**
 * ChainID (image-spec config.md): the first layer's is its DiffID; each next
 * one is sha256("<parent chain id> <diff id>"). It names a stack of layers, so
 * a layer dir keyed by it is the same for every image that shares the stack.
 */
export function chainIdOf(parentChainId: string | null | undefined, diffId: string): string {
  return parentChainId ? sha256Digest(`${parentChainId} ${diffId}`) : diffId;
}

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIds) {
    parent = chainIdOf(parent, d);
    out.push(parent);
  }
  return out;
}

/** Node's process.arch as Go/OCI spell it. */
export function ociArchitecture(arch: string = process.arch): string {
  switch (arch) {
    case 'x64': return 'amd64';
    case 'ia32': return '386';
    case 'arm64': return 'arm64';
    case 'arm': return 'arm';
    case 'ppc64': return 'ppc64le';
    case 's390x': return 's390x';
    case 'riscv64': return 'riscv64';
    default: return arch;
  }
}

/**
 * Checks the parts of a config the store relies on and gives a sentence naming
 * the problem; `where` says which file or blob it came from.
 */
export function validateImageConfig(value: unknown, where: string): OciImage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: the image config is not a JSON object`);
  }
  const img = value as OciImage;
  if (typeof img.rootfs !== 'object' || img.rootfs === null || !Array.isArray(img.rootfs.diff_ids)) {
    throw new Error(`${where}: the image config has no rootfs.diff_ids`);
  }
  for (const d of img.rootfs.diff_ids) {
    if (!isDigest(d)) throw new Error(`${where}: rootfs.diff_ids holds ${JSON.stringify(d)}, not a sha256 digest`);
  }
  if (img.os !== undefined && typeof img.os !== 'string') throw new Error(`${where}: "os" is not a string`);
  if (img.os && img.os !== 'linux') throw new Error(`${where}: the image is for ${img.os}; only linux images run here`);
  return img;
}
