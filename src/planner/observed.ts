import type { ContainerSummary, ImageConfig, NetworkSummary, VolumeSummary } from '../engine/types.js';

/**
 * What exists, read back from the engine by label (plus what the compose file
 * points at outside itself: image ids, config and secret content). The
 * reconciler compares this with the Project; it never reads a side file.
 */
export interface ObservedContainer {
  summary: ContainerSummary;
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  configHash: string;
  /** The image id recorded at creation (`com.docker.compose.image`). */
  imageId: string;
  /** Per-field digests (io.tscompose.config-fields), when the container was created by tscompose. */
  fields?: Record<string, string>;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  /** The compose key (`com.docker.compose.network`). */
  key: string;
  configHash: string;
  labels: Record<string, string>;
}

export interface ObservedVolume {
  name: string;
  key: string;
  configHash: string;
  labels: Record<string, string>;
}

export interface ObservedImage {
  id: string;
  config: ImageConfig;
}

export interface ObservedState {
  project: string;
  /** Containers of known services, by service, oneoff excluded. */
  containers: Record<string, ObservedContainer[]>;
  /** Containers of the project whose service is not in the compose file (nor disabled by a profile). */
  orphans: ObservedContainer[];
  /** `run` containers of the project. */
  oneoffs: ObservedContainer[];
  /** Networks with the project label, by compose key. */
  networks: Record<string, ObservedNetwork>;
  volumes: Record<string, ObservedVolume>;
  /**
   * Networks and volumes looked up by their engine name (external ones, and
   * desired ones that carry no project label): name → summary, or null when
   * there is no such object.
   */
  networksByName: Record<string, NetworkSummary | null>;
  volumesByName: Record<string, VolumeSummary | null>;
  /** Image reference → what it resolves to; absent when the engine has no such image. */
  images: Record<string, ObservedImage>;
  /** sha256 and content of each config and secret, keyed `config:<name>` / `secret:<name>`. */
  contents: Record<string, { digest: string; content: Buffer; file?: string }>;
}

export function emptyObservedState(project: string): ObservedState {
  return {
    project,
    containers: {},
    orphans: [],
    oneoffs: [],
    networks: {},
    volumes: {},
    networksByName: {},
    volumesByName: {},
    images: {},
    contents: {},
  };
}
