/**
 * The native engine's image store. Other modules import from here only.
 */
export { ImageStore } from './store.js';
export type { ImageRecord, RootfsLayout, LayerRecord, AddedLayer, AddLayerOptions, DeleteReport, AddImageOptions, AddedImage } from './store.js';
export type { OciImage, OciImageConfig, OciHealthConfig, OciHistory, OciRootFs, OciDescriptor, OciManifest, OciIndex, OciPlatform } from './oci.js';
export { MediaType, chainIdOf, chainIds, sha256Digest, isDigest, ociArchitecture } from './oci.js';
export {
  parseReference, withDefaultTag, referenceString, repositoryName, familiarName, familiarString, normalizeTaggedName, familiarize,
  DEFAULT_DOMAIN, DEFAULT_TAG, type ImageReference,
} from './reference.js';
export { LayerRefusedError } from './extract.js';
export { importRootfsTar, type ImportOptions } from './import.js';
export { isMountPoint, mountPoints } from './rootfs.js';
