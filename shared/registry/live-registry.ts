import { show, StrataError } from "../errors.js";
import type { FeatureRegistry } from "./feature-registry.js";
import { servedInProcess } from "./file-registry-source.js";
import type {
  RegistryListener,
  RegistryRefusal,
  RegistrySource,
  ServedRegistry,
} from "./registry-source.js";

/** What a RegistrySource may offer beyond the contract; LiveRegistry uses it when present. */
export interface RegistrySourceCapabilities {
  /**
   * Resolves once every registry published before the call has reached the listener
   * (onRegistry or onRefused). The changelog consumer asks for it before it dead-letters a
   * record of a view its registry does not have: the view may have been published a moment
   * ago. Without it, LiveRegistry.newerThan waits for a swap until its timeout.
   */
  refresh?(): Promise<void>;
  /** false: the source never delivers anything after start (a file), so nothing is waited for. Default true. */
  readonly follows?: boolean;
}

/** What a process does when its registry changes: metrics, logs, caches keyed by it. */
export interface LiveRegistryListener {
  /** Called after the swap: `next` is what snapshot() returns from now on. */
  swapped?(next: ServedRegistry, previous: ServedRegistry): void;
  /** A registry that was not taken; `served` is still served. */
  refused?(refusal: RegistryRefusal, served: ServedRegistry): void;
}

export interface LiveRegistryOptions {
  /**
   * The project this process serves (STRATA_PROJECT). Default: the first registry's. It never
   * changes: a registry of another project is refused.
   */
  project?: string;
  /** Subscribed before anything is delivered, so they see every swap and refusal. */
  listeners?: readonly LiveRegistryListener[];
  /** Where a listener that throws is reported (it never stops the swap or the other listeners). */
  onListenerError?: (error: unknown) => void;
}

/**
 * The registry a process serves now, swapped atomically to a newer one as its source
 * delivers them. A request (or a consumer's chunk) takes one snapshot() when it starts and
 * uses only that until it ends, so one that is in flight during a swap finishes on the
 * registry it started with, and nothing it answers mixes two registries. Everything derived
 * from a registry's content (resolved reference lists, response names, record templates) is
 * cached on that registry's own objects, so a new registry starts with fresh ones and the
 * old ones go when the last request holding the old registry is done.
 *
 * A delivered registry is taken when it is of this process' project and newer than the one
 * served; otherwise it is refused, and the one served stays. A source's own refusals (a
 * registry it could not validate) are passed on to listeners the same way.
 */
export class LiveRegistry {
  readonly project: string;
  private served: ServedRegistry;
  private readonly listeners = new Set<LiveRegistryListener>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  /** While follow() applies what the source delivered before start() resolved. */
  private starting = false;

  private constructor(
    initial: ServedRegistry,
    private readonly source: (RegistrySource & RegistrySourceCapabilities) | undefined,
    private readonly options: LiveRegistryOptions,
  ) {
    this.project = options.project ?? initial.registry.project;
    this.served = initial;
    for (const listener of options.listeners ?? []) this.listeners.add(listener);
  }

  /**
   * Starts `source` and follows it. Throws the source's StrataError when it has no valid
   * registry to start with, and STRATA_E_BAD_CONFIG when that registry is of another project
   * than `options.project`.
   */
  static async follow(
    source: RegistrySource & RegistrySourceCapabilities,
    options: LiveRegistryOptions = {},
  ): Promise<LiveRegistry> {
    const started: { live?: LiveRegistry } = {};
    /** What the source delivers before start() resolves, applied in order right after. */
    const early: ((holder: LiveRegistry) => void)[] = [];
    const deliver = (event: (holder: LiveRegistry) => void) => {
      if (started.live) event(started.live);
      else early.push(event);
    };
    const listener: RegistryListener = {
      onRegistry: (next) => deliver((holder) => holder.offer(next)),
      onRefused: (refusal) => deliver((holder) => holder.refuse(refusal)),
    };
    const initial = await source.start(listener);
    if (options.project !== undefined && initial.registry.project !== options.project) {
      await source.stop().catch(() => undefined);
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `the registry from ${initial.origin} is of project ${show(initial.registry.project)}, not ${show(options.project)} (STRATA_PROJECT)`,
        {
          variable: "STRATA_PROJECT",
          project: initial.registry.project,
          expected: options.project,
        },
      );
    }
    const holder = new LiveRegistry(initial, source, options);
    holder.starting = true;
    for (const event of early) event(holder);
    holder.starting = false;
    started.live = holder;
    return holder;
  }

  /** A registry that never changes (tests, tools, a registry built in process). */
  static fixed(
    registry: FeatureRegistry | ServedRegistry,
    options: LiveRegistryOptions = {},
  ): LiveRegistry {
    const served = "registry" in registry ? registry : servedInProcess(registry);
    return new LiveRegistry(served, undefined, options);
  }

  /**
   * The registry served now. Take it once per request or batch and use only it: reading it
   * again mid-request may see a newer one.
   */
  snapshot(): ServedRegistry {
    return this.served;
  }

  /** snapshot().registry: for code that takes it once and keeps it (tools, start-up). */
  get registry(): FeatureRegistry {
    return this.served.registry;
  }

  /** Whether the registry can still change (false for a file or a fixed registry). */
  get follows(): boolean {
    return !this.stopped && this.source !== undefined && this.source.follows !== false;
  }

  /**
   * Takes `next` if it is of this project and newer than the one served, and tells the
   * listeners; refuses it otherwise (the same version with the same hash again is ignored).
   * Returns whether it swapped.
   */
  offer(next: ServedRegistry): boolean {
    if (this.stopped) return false;
    const served = this.served;
    if (next.registry.project !== this.project) {
      this.refuse({
        origin: next.origin,
        error: new StrataError(
          "STRATA_E_BAD_REGISTRY",
          `the registry from ${next.origin} is of project ${show(next.registry.project)}; this process serves ${this.project}`,
          { project: next.registry.project, served: this.project },
        ),
      });
      return false;
    }
    // Two regions that applied the same version at once: the source delivers the one every
    // region ranks first (registry-order.ts), which may replace the one served here.
    const winnerSwitch =
      next.version === served.version && next.hash !== served.hash && this.follows;
    if (next.version <= served.version && !(winnerSwitch && !this.starting)) {
      if (next.version === served.version && next.hash === served.hash) return false;
      // Delivered while the source caught up to the registry it started with: superseded.
      if (this.starting) return false;
      this.refuse({
        origin: next.origin,
        error: new StrataError(
          "STRATA_E_BAD_REGISTRY",
          `registry version ${next.version} from ${next.origin} is not newer than version ${served.version}, which this process serves`,
          { version: next.version, served: served.version, hash: next.hash },
        ),
      });
      return false;
    }
    this.served = next;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    for (const listener of this.listeners) this.tell(() => listener.swapped?.(next, served));
    return true;
  }

  /** A registry that was not taken: the listeners hear of it, the served one stays. */
  refuse(refusal: RegistryRefusal): void {
    if (this.stopped) return;
    const served = this.served;
    for (const listener of this.listeners) this.tell(() => listener.refused?.(refusal, served));
  }

  /** Adds a listener; returns what removes it. */
  subscribe(listener: LiveRegistryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A registry newer than `version`: the one served if it is, else, when the source follows a
   * published registry, the one it delivers after being asked for anything published since
   * (refresh) or within `timeoutMs`. Undefined when there is none.
   */
  async newerThan(
    version: number,
    timeoutMs: number,
    options: { refreshDecides?: boolean } = {},
  ): Promise<ServedRegistry | undefined> {
    if (this.served.version > version) return this.served;
    if (!this.follows) return undefined;
    const refreshDecides = options.refreshDecides ?? true;
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const never = new Promise<void>(() => undefined);
    const swapped = new Promise<void>((resolve) => this.waiters.add((wake = resolve)));
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    // A refresh that fails proves nothing: wait for a swap until the timeout instead. Nor does
    // one that found nothing when the record came from a peer region: its registry travels on
    // a topic of its own and may still be on the way (refreshDecides false); the refresh still
    // runs, so that what did arrive is delivered at once.
    const refreshing = this.source?.refresh?.().then(
      () => true,
      () => false,
    );
    const refreshed =
      refreshing && refreshDecides ? refreshing.then((done) => (done ? undefined : never)) : never;
    try {
      await Promise.race([swapped, timedOut, refreshed]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(wake!);
    }
    return this.served.version > version ? this.served : undefined;
  }

  /** Stops following: the source is stopped, the registry served stays as it is. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    await this.source?.stop();
  }

  private tell(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.onListenerError?.(error);
    }
  }
}
