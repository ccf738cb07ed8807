interface Waiter<T> {
  items: readonly T[];
  resolve: () => void;
  reject: (error: unknown) => void;
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
  ) {}

  send(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
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
        for (const waiter of group) waiter.reject(error);
      }
    }
    this.running = false;
  }
}
