import { statePath, stateRoot } from '../../../util/paths.js';
import { StorePaths } from '../image/layout.js';
import type { ImageStore } from '../image/index.js';
import type { ContainerRuntime } from '../runtime/index.js';
import { NetworkBatcher } from './net-batch.js';

/**
 * What the native Engine is made of, opened on first use: a command that
 * only lists networks never opens the image store, and one that never
 * touches a network never loads the network module. One store and one
 * runtime per Engine, shared by its parts (and by the supervisor, which
 * opens an Engine of its own in the daemon). They belong to the state root
 * they were opened under: when TSCOMPOSE_ROOT changes (a test moving to its
 * next root), the next call opens them again there.
 */
export type NetworkModule = typeof import('../../../network/index.js');
export type NetworkBridge = typeof import('../../../network/runtime-bridge.js');

export class EngineDeps {
  private storePromise?: Promise<ImageStore>;
  private runtimePromise?: Promise<ContainerRuntime>;
  private networkPromise?: Promise<NetworkModule>;
  private bridgePromise?: Promise<NetworkBridge>;
  private readsPromise?: Promise<{ listNetworks: NetworkModule['listNetworks']; publishedPorts: NetworkModule['publishedPorts'] }>;
  private readonly removedHooks: Array<(id: string) => Promise<void>> = [];
  private root = stateRoot();

  /** True in the daemon's supervisor: what it does, it need not be told about. */
  constructor(readonly inSupervisor = false) {}

  private current(): void {
    const root = stateRoot();
    if (root === this.root) return;
    this.root = root;
    this.storePromise = undefined;
    this.runtimePromise = undefined;
  }

  store(): Promise<ImageStore> {
    this.current();
    // The store's own file, not its index: the index also loads the archive, extraction and import
    // code (tens of milliseconds of module loading a listing never needs).
    this.storePromise ??= import('../image/store.js').then((m) => m.ImageStore.open());
    return this.storePromise;
  }

  /** Where the image store keeps its records (what ImageStore.open() opens), for reads that need no more of it. */
  imagePaths(): StorePaths {
    return new StorePaths(statePath('image'));
  }

  runtime(): Promise<ContainerRuntime> {
    this.current();
    this.runtimePromise ??= (async () => {
      const [{ ContainerRuntime }, store] = await Promise.all([import('../runtime/index.js'), this.store()]);
      const rt = await ContainerRuntime.open({ images: store });
      // Whatever removes a container (ours, or the runtime's own sweep of exited --rm ones) takes its
      // network endpoints and the Engine's records with it.
      rt.onRemoved(async (id) => {
        for (const hook of this.removedHooks) await hook(id);
      });
      return rt;
    })();
    return this.runtimePromise;
  }

  /** What listing needs of the network module (records and published ports), without the rest of it. */
  networkReads(): Promise<{ listNetworks: NetworkModule['listNetworks']; publishedPorts: NetworkModule['publishedPorts'] }> {
    // The record modules only: network/networks.ts and ports/client.ts bring the bridge, firewall and daemon code.
    this.readsPromise ??= Promise.all([import('../../../network/store.js'), import('../../../network/ports/records.js')]).then(([n, p]) => ({
      listNetworks: n.listNetworks,
      publishedPorts: p.publishedPorts,
    }));
    return this.readsPromise;
  }

  network(): Promise<NetworkModule> {
    this.networkPromise ??= import('../../../network/index.js');
    return this.networkPromise;
  }

  bridge(): Promise<NetworkBridge> {
    this.bridgePromise ??= import('../../../network/runtime-bridge.js');
    return this.bridgePromise;
  }

  private netQueue: Promise<unknown> = Promise.resolve();

  /**
   * Network changes of this process, one after another. Each takes the
   * network module's inter-process lock, which waiters poll with a growing
   * sleep: thirty containers of one `up` racing for it wait out those sleeps
   * (measured: 30 attaches in parallel 2.0 s, in a row 1.4 s; 30 detaches 0.9
   * s against 0.45 s). Never nested.
   */
  netOp<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.netQueue.then(fn, fn);
    this.netQueue = next.catch(() => undefined);
    return next;
  }

  /** The batches of network work of this process (see net-batch.ts). */
  readonly batches = new NetworkBatcher((fn) => this.netOp(fn), () => import('../../../network/batch.js'));

  /** Runs after every container removal, in registration order. */
  onRemoved(hook: (id: string) => Promise<void>): void {
    this.removedHooks.push(hook);
  }
}
