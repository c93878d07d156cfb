import type { ImageStore } from '../engine/native/image/index.js';
import type { ContainerRuntime } from '../engine/native/runtime/index.js';

/**
 * What a build needs from the native engine: its image store, and its
 * container runtime for RUN steps — or a function that opens it, so that a
 * build whose RUN steps all come from the cache never loads it.
 */
export interface BuildDeps {
  store: ImageStore;
  runtime: ContainerRuntime | (() => Promise<ContainerRuntime>);
}

/** What a commit needs: the store and the runtime that knows the container. */
export interface CommitDeps {
  store: ImageStore;
  runtime: ContainerRuntime;
}

export type BuildNetwork = 'host' | 'none' | 'default';

export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /** The Dockerfile: a path relative to the context (or absolute); `Dockerfile` by default. */
  dockerfile?: string;
  /** The Dockerfile's text instead of a file (Compose's dockerfile_inline). */
  dockerfileInline?: string;
  /** --build-arg values. */
  args?: Record<string, string>;
  /** Build up to this stage (its name or index). */
  target?: string;
  /** NAME[:TAG] references for the image. */
  tags?: string[];
  /** Labels added to the image (as a LABEL at the end of the last stage). */
  labels?: Record<string, string>;
  /** The network RUN steps get: host (default, so package managers reach their mirror) or none. */
  network?: BuildNetwork;
  noCache?: boolean;
  /** Pull base images even when the store has them. */
  pull?: boolean;
  /** The platform to build for (only this host's). */
  platform?: string;
  /** Extra /etc/hosts entries for RUN steps ("host:ip"). */
  extraHosts?: string[];
  /** /dev/shm size of RUN steps, bytes. */
  shmSize?: number;
  /** Memory limit of RUN steps, bytes. */
  memory?: number;
  /**
   * `FROM debian:<suite>` that cannot be pulled: make the base with
   * debootstrap (the default), keeping its rootfs tar in `cacheDir` if given.
   */
  bootstrap?: false | { cacheDir?: string };
  /** One line at a time, in `docker build`'s classic format. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface StepReport {
  /** 1-based, over all the steps built. */
  n: number;
  stage: number;
  instruction: string;
  /** The Dockerfile line. */
  line: number;
  cached: boolean;
  /** The layer it added, if any. */
  chainId?: string;
}

export interface BuildResult {
  imageId: string;
  tags: string[];
  steps: StepReport[];
  /** Steps (FROM excluded) that came from the cache, and those that ran. */
  cacheHits: number;
  cacheMisses: number;
  warnings: string[];
}
