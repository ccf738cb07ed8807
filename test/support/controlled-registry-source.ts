// A registry source a test drives: it publishes registries on demand, as `strata apply` would
// publish them to the project's registry topic, and delivers them at once, later (deliver), or
// when asked for what was published (refresh), as a source following that topic would.
import type { StrataError } from "../../shared/errors.js";
import {
  definitionHash,
  FeatureRegistry,
  type FeatureRepoDefinition,
  type RegistryListener,
  type RegistrySource,
  type RegistrySourceCapabilities,
  type ServedRegistry,
} from "../../shared/registry/index.js";

export class ControlledRegistrySource implements RegistrySource, RegistrySourceCapabilities {
  refresh?: () => Promise<void>;
  /** Published, not yet delivered. */
  private readonly staged: ServedRegistry[] = [];
  private listener: RegistryListener | undefined;
  private version = 0;
  refreshes = 0;
  stopped = false;

  constructor(
    private readonly initial: FeatureRepoDefinition,
    options: { refresh?: boolean } = {},
  ) {
    if (options.refresh !== false) {
      this.refresh = () => {
        this.refreshes++;
        this.deliver();
        return Promise.resolve();
      };
    }
  }

  start(listener: RegistryListener): Promise<ServedRegistry> {
    this.listener = listener;
    return Promise.resolve(this.served(this.initial));
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }

  /** Publishes `definition` as the next version and delivers it now. */
  publish(definition: FeatureRepoDefinition): ServedRegistry {
    const served = this.stage(definition);
    this.deliver();
    return served;
  }

  /** Publishes `definition` as the next version without delivering it yet. */
  stage(definition: FeatureRepoDefinition): ServedRegistry {
    const served = this.served(definition);
    this.staged.push(served);
    return served;
  }

  /** Delivers what was published and not yet delivered, in order. */
  deliver(): void {
    for (const served of this.staged.splice(0)) this.listener!.onRegistry(served);
  }

  /** A published record the source could not validate (a corrupt record, say). */
  refuse(error: StrataError, origin = `test:${this.version + 1}`): void {
    this.version++;
    this.listener!.onRefused({ error, origin });
  }

  private served(definition: FeatureRepoDefinition): ServedRegistry {
    this.version++;
    return {
      registry: new FeatureRegistry(definition),
      version: this.version,
      hash: definitionHash(definition),
      origin: `test:${this.version}`,
    };
  }
}
