import { UserError } from '../../../util/errors.js';
import {
  INDEX_MEDIA_TYPES, LAYER_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType, isDigest, ociArchitecture,
  type OciDescriptor, type OciIndex, type OciManifest, type OciPlatform,
} from '../image/index.js';

/**
 * The registry's manifest documents: image manifests (Docker v2 schema 2,
 * OCI) and the lists that point at one per platform (Docker manifest lists,
 * OCI indexes). Schema 1 manifests (signed or not) are refused with a
 * sentence: Docker itself stopped pulling them.
 */

const SCHEMA1_TYPES = [MediaType.dockerManifestV1, MediaType.dockerManifestV1Signed, 'application/json'];

/** What a pull asks for: every type we read, and schema 1 last so that a registry holding only that says so. */
export const MANIFEST_ACCEPT = [...MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES, MediaType.dockerManifestV1Signed, MediaType.dockerManifestV1].join(', ');

export type ManifestDocument =
  | { kind: 'index'; mediaType: string; index: OciIndex }
  | { kind: 'manifest'; mediaType: string; manifest: OciManifest };

/** Parses and checks a manifest or index; `where` names it in errors (`localhost:5000/app:1`). */
export function parseManifestDocument(bytes: Uint8Array, contentType: string | null, where: string): ManifestDocument {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new UserError(`the manifest of ${where} is not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError(`the manifest of ${where} is not a JSON object`);
  const headerType = (contentType ?? '').split(';')[0]!.trim();
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : headerType;
  if (doc.schemaVersion === 1 || (SCHEMA1_TYPES.includes(mediaType) && doc.schemaVersion !== 2)) {
    throw new UserError(`${where} has a schema 1 manifest, a format Docker no longer pulls and tscompose does not read`, 1,
      'Push the image again with a current Docker (it writes schema 2 / OCI manifests)');
  }
  if (doc.schemaVersion !== 2) throw new UserError(`the manifest of ${where} has schemaVersion ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  const isIndex = INDEX_MEDIA_TYPES.includes(mediaType) || (!MANIFEST_MEDIA_TYPES.includes(mediaType) && Array.isArray(doc.manifests));
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) throw new UserError(`the image index of ${where} has no manifests list`);
    for (const d of doc.manifests) checkDescriptor(d, `an entry of the index of ${where}`);
    return { kind: 'index', mediaType: mediaType || MediaType.ociIndex, index: doc as unknown as OciIndex };
  }
  if (MANIFEST_MEDIA_TYPES.includes(mediaType) || (doc.config && Array.isArray(doc.layers))) {
    checkDescriptor(doc.config, `the config descriptor of ${where}`);
    if (!Array.isArray(doc.layers)) throw new UserError(`the manifest of ${where} has no layers list`);
    for (const l of doc.layers) {
      checkDescriptor(l, `a layer of ${where}`);
      const layer = l as OciDescriptor;
      if (!LAYER_MEDIA_TYPES.includes(layer.mediaType)) {
        throw new UserError(`${where}: layer ${layer.digest} has media type ${layer.mediaType}, which is not an image layer`, 1,
          'This is an artifact (not a container image), or a layer format tscompose does not read');
      }
    }
    const config = doc.config as OciDescriptor;
    if (config.mediaType && ![MediaType.dockerConfig, MediaType.ociConfig].includes(config.mediaType as never)) {
      throw new UserError(`${where} is not a container image: its config has media type ${config.mediaType}`, 1, 'Only images can be pulled and run');
    }
    return { kind: 'manifest', mediaType: mediaType || MediaType.ociManifest, manifest: doc as unknown as OciManifest };
  }
  throw new UserError(`${where}: unsupported manifest media type ${JSON.stringify(mediaType || headerType)}`);
}

function checkDescriptor(value: unknown, what: string): void {
  const d = value as OciDescriptor | undefined;
  if (!d || typeof d !== 'object') throw new UserError(`${what} is not a descriptor`);
  if (!isDigest(d.digest)) throw new UserError(`${what} has digest ${JSON.stringify(d.digest)}: only sha256 digests are supported`);
  if (typeof d.size !== 'number' || d.size < 0 || !Number.isSafeInteger(d.size)) throw new UserError(`${what} has no valid size`);
}

/** `linux/arm64/v8` → a platform; missing parts default to this host's. */
export function parsePlatform(text: string | undefined): OciPlatform {
  if (!text) return hostPlatform();
  const parts = text.toLowerCase().split('/');
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new UserError(`invalid platform "${text}"`, 1, 'Write it as OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8');
  }
  const [os, arch, variant] = parts;
  const p: OciPlatform = { os: os!, architecture: normalizeArch(arch ?? ociArchitecture()) };
  if (variant) p.variant = variant;
  if (p.os !== 'linux') throw new UserError(`platform ${text}: only linux images run here`);
  return p;
}

export function hostPlatform(): OciPlatform {
  const p: OciPlatform = { os: 'linux', architecture: ociArchitecture() };
  if (p.architecture === 'arm') p.variant = 'v7';
  return p;
}

function normalizeArch(a: string): string {
  switch (a) {
    case 'x86_64': case 'x86-64': return 'amd64';
    case 'aarch64': return 'arm64';
    case 'i386': return '386';
    default: return a;
  }
}

export function platformString(p: OciPlatform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Docker's attestation manifests sit in the index as unknown/unknown with this annotation. */
function isAttestation(d: OciDescriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
    || (d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown');
}

/**
 * The index entry for `wanted` (containerd's platform matching, simplified):
 * same os and architecture; an exact variant first, then one without a
 * variant, then (arm64 only) v8; attestations and other media types skipped.
 */
export function selectPlatform(index: OciIndex, wanted: OciPlatform, where: string): OciDescriptor {
  const images = index.manifests.filter((d) => !isAttestation(d) && (MANIFEST_MEDIA_TYPES.includes(d.mediaType) || INDEX_MEDIA_TYPES.includes(d.mediaType)));
  const sameArch = images.filter((d) => d.platform && d.platform.os === wanted.os && normalizeArch(d.platform.architecture) === wanted.architecture);
  const variantOf = (d: OciDescriptor) => d.platform?.variant ?? '';
  const pick = sameArch.find((d) => variantOf(d) === (wanted.variant ?? ''))
    ?? (wanted.variant ? sameArch.find((d) => variantOf(d) === '') : undefined)
    ?? (wanted.architecture === 'arm64' ? sameArch.find((d) => variantOf(d) === 'v8') : undefined)
    ?? (wanted.variant ? undefined : sameArch[0])
    ?? images.find((d) => !d.platform && images.length === 1);
  if (pick) return pick;
  const available = images.map((d) => platformString(d.platform)).join(', ') || 'none';
  throw new UserError(`no matching manifest for ${platformString(wanted)} in the manifest list of ${where} (it has ${available})`, 1,
    'Pick one of those with --platform');
}
