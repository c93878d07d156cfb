/**
 * The registry client of the native engine: pull and push images with the
 * distribution API, Docker's auth flows and credentials. Other modules
 * import from here only.
 */
export { pullImage, type PullImageOptions, type PulledImage } from './pull.js';
export { pushImage, type PushImageOptions, type PushedImage, type LayerPushAction } from './push.js';
export { login, logout, registryOf, verifyCredentials } from './login.js';
export { loadCredentials, storeCredentials, removeCredentials, dockerConfigPath, authKey, type Credentials } from './credentials.js';
export { RepositoryClient } from './client.js';
export { RegistryHttp, isInsecureRegistry, apiHost } from './http.js';
export { parseChallenges, type Challenge } from './auth.js';
export { parseManifestDocument, selectPlatform, parsePlatform, platformString, hostPlatform, MANIFEST_ACCEPT } from './manifest.js';
export { BlobRefusedError } from './verify.js';
export { shortDigest, type ProgressFn } from './progress.js';
