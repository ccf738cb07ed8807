interface Waiter<T> {
  items: readonly T[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Why a send was given up before it started: its caller's deadline passed while it waited. */
export class SendNotStarted extends Error {
  constructor() {
    super("the send was given up before it started");
  }
}

/**
 * Group commit over one producer: one send in flight at a time, and everything that arrived
 * meanwhile goes out together in the next send. kafkajs' idempotent producer can lose
 * records when sends to a partition overlap (tulios/kafkajs#1005), so acknowledged writes
 * must never overlap; grouping keeps throughput while they queue.
 */
export class SerialSender<T> {
  private waiting: Waiter<T>[] = [];
  private running = false;

  constructor(
    private readonly sendBatch: (items: T[]) => Promise<void>,
    /** Most items per send; a larger waiter still goes out whole. */
    private readonly maxItems: number,
    /**
     * Whether an error refuses a send for good (a record too large, no authorization). A group
     * refused so is sent again waiter by waiter, so that one caller's bad record does not fail
     * the others grouped with it.
     */
    private readonly isPermanent: (error: unknown) => boolean = () => false,
  ) {}

  /**
   * Sends items in the next group. When `signal` aborts before the items were taken into a
   * send, they are dropped and the promise rejects with SendNotStarted: a caller that gave up
   * leaves nothing behind to be sent later, and memory stays bounded while Kafka is down.
   */
  send(items: readonly T[], signal?: AbortSignal): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new SendNotStarted());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter<T> = { items, resolve, reject };
      this.waiting.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.waiting.indexOf(waiter);
          if (index < 0) return; // already in flight: it settles with its send
          this.waiting.splice(index, 1);
          reject(new SendNotStarted());
        },
        { once: true },
      );
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      let count = 0;
      let take = 0;
      while (
        take < this.waiting.length &&
        (take === 0 || count + this.waiting[take]!.items.length <= this.maxItems)
      ) {
        count += this.waiting[take]!.items.length;
        take++;
      }
      const group = this.waiting.splice(0, take);
      try {
        await this.sendBatch(group.flatMap((w) => w.items));
        for (const waiter of group) waiter.resolve();
      } catch (error) {
        if (group.length > 1 && this.isPermanent(error)) {
          for (const waiter of group) {
            await this.sendBatch([...waiter.items]).then(waiter.resolve, waiter.reject);
          }
        } else {
          for (const waiter of group) waiter.reject(error);
        }
      }
    }
    this.running = false;
  }
}
