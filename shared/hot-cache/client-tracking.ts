import { Redis, type Cluster } from "ioredis";

const INVALIDATE_CHANNEL = "__redis__:invalidate";

/** What ClientTracking drives: a cache that can be armed, invalidated by key, or flushed. */
export interface InvalidationTarget {
  setArmed(armed: boolean): void;
  invalidate(key: string): void;
  flush(): void;
}

/** One Redis server: the connection our reads use, and the subscriber its invalidations go to. */
interface TrackedNode {
  data: Redis;
  subscriber: Redis;
  armed: boolean;
  /** CLIENT ID of the subscriber connection, once known. */
  subscriberId?: number;
  /** Bumped on every (re)arm attempt, so a slow attempt cannot mark a newer connection armed. */
  attempt: number;
  detach: () => void;
}

/**
 * Redis client-side caching over RESP2 (the RESP2 form needs a second connection):
 * for every server, a subscriber connection on `__redis__:invalidate`, and
 * `CLIENT TRACKING ON REDIRECT <subscriber id>` on the connection reads go through, so the
 * server tells us about every key we read once it changes, whoever changes it (this
 * connection included: no NOLOOP).
 *
 * Re-armed after any reconnect of either connection and on every cluster node as nodes
 * come and go. While any node is not armed the cache holds nothing (it is flushed and
 * refuses fills): a value read without tracking could change without us hearing of it.
 */
export class ClientTracking {
  private readonly nodes = new Map<string, TrackedNode>();
  private stopped = false;
  private readonly onNodeAdded = (node: Redis) => this.track(node);
  private readonly onNodeRemoved = (node: Redis) => this.untrack(nodeId(node));

  constructor(
    private readonly client: Redis | Cluster,
    private readonly target: InvalidationTarget,
  ) {}

  /** Arms tracking on every current node; resolves once all are armed (or rejects after timeoutMs). */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.client instanceof Redis) {
      this.track(this.client);
    } else {
      this.client.on("+node", this.onNodeAdded);
      this.client.on("-node", this.onNodeRemoved);
      for (const node of this.client.nodes("master")) this.track(node);
    }
    const deadline = Date.now() + timeoutMs;
    while (!this.allArmed()) {
      if (Date.now() > deadline)
        throw new Error(`client tracking was not armed within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** CLIENT ID of each node's subscriber connection, by node ("host:port"): for diagnostics, and for tests that kill them. */
  subscriberIds(): Map<string, number | undefined> {
    return new Map([...this.nodes].map(([id, node]) => [id, node.subscriberId]));
  }

  get armed(): boolean {
    return this.allArmed();
  }

  /** Stops tracking: subscriber connections closed, the cache disarmed (and so flushed). */
  stop(): void {
    this.stopped = true;
    if (!(this.client instanceof Redis)) {
      this.client.off("+node", this.onNodeAdded);
      this.client.off("-node", this.onNodeRemoved);
    }
    for (const id of [...this.nodes.keys()]) this.untrack(id);
    this.target.setArmed(false);
  }

  private track(data: Redis): void {
    const id = nodeId(data);
    if (this.stopped || this.nodes.has(id)) return;
    const { host, port, username, password, tls, family, connectTimeout } = data.options;
    const subscriber = new Redis({
      host,
      port,
      username,
      password,
      tls,
      family,
      connectTimeout,
      // Not the data connection's own strategy: Cluster node connections never retry by
      // themselves (the cluster does), but this connection must always come back.
      retryStrategy: (attempt) => Math.min(50 * attempt, 2_000),
      // Off: after a reconnect we must ask CLIENT ID before subscribing again.
      autoResubscribe: false,
      maxRetriesPerRequest: null,
    });
    const node: TrackedNode = { data, subscriber, armed: false, attempt: 0, detach: () => {} };
    const lost = () => this.disarm(node);
    const rearm = () => void this.arm(node);
    const onMessage = (_channel: Buffer, message: Buffer[] | Buffer | null) => {
      if (message === null) this.target.flush();
      else if (Array.isArray(message))
        for (const key of message) this.target.invalidate(key.toString());
      else this.target.invalidate(message.toString());
    };
    subscriber.on("messageBuffer", onMessage);
    subscriber.on("ready", rearm);
    subscriber.on("close", lost);
    subscriber.on("error", () => {
      // Connection errors surface as close/reconnect; nothing else to do here.
    });
    data.on("ready", rearm);
    data.on("close", lost);
    node.detach = () => {
      data.off("ready", rearm);
      data.off("close", lost);
      subscriber.removeAllListeners();
      subscriber.on("error", () => {});
      subscriber.disconnect();
    };
    this.nodes.set(id, node);
    this.target.setArmed(false);
    if (subscriber.status === "ready") void this.arm(node);
  }

  private untrack(id: string): void {
    const node = this.nodes.get(id);
    if (!node) return;
    node.detach();
    this.nodes.delete(id);
    this.target.setArmed(this.allArmed());
  }

  private disarm(node: TrackedNode): void {
    node.attempt++;
    node.armed = false;
    this.target.setArmed(false);
  }

  private async arm(node: TrackedNode): Promise<void> {
    const attempt = ++node.attempt;
    node.armed = false;
    this.target.setArmed(false);
    if (node.subscriber.status !== "ready") return;
    try {
      const subscriberId = await node.subscriber.client("ID");
      node.subscriberId = subscriberId;
      await node.subscriber.subscribe(INVALIDATE_CHANNEL);
      // Without NOLOOP: any command of this connection that modifies a key (a write the CAS
      // applies, the clock field a stale or concurrent row still updates, a pointer flip, a
      // write that timed out here and ran there anyway) drops the key from the server's
      // tracking table. With NOLOOP it would drop it without telling us, and a later write by
      // anyone else would go unheard until the safety TTL. So the server reports our own
      // writes too; the store also drops what it wrote at once, for read-your-writes.
      await node.data.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(subscriberId));
    } catch {
      // The connection dropped while arming; its ready event will bring us back here.
      return;
    }
    if (attempt !== node.attempt || this.stopped) return;
    node.armed = true;
    if (this.allArmed()) this.target.setArmed(true);
  }

  private allArmed(): boolean {
    if (this.nodes.size === 0) return false;
    for (const node of this.nodes.values()) if (!node.armed) return false;
    return true;
  }
}

function nodeId(node: Redis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}
