import { StrataError } from "../errors.js";
import type { EncodedRecord } from "./record.js";

export interface WriteQueueOptions {
  /** Records held in memory (queued and in flight) at most; beyond it, enqueue refuses. */
  maxRecords: number;
  /** A batch is sent as soon as this many records wait... */
  batchSize: number;
  /** ...or when the oldest has waited this long. */
  lingerMs: number;
  /** Sends one batch; resolves once Kafka acknowledged it (acks=all). */
  send: (records: EncodedRecord[]) => Promise<void>;
  /** A failed send that is retried (never dropped). */
  onSendError: (error: unknown, attempt: number) => void;
  /**
   * Whether a send error is one retrying cannot fix (a record too large, no authorization):
   * the error the refused records' writers get, or undefined to retry. Retrying forever on
   * those would stall every record queued behind them.
   */
  permanentError?: (error: unknown) => Error | undefined;
  /** Records refused for good (their waiting writers, if any, got `error`). */
  onRefused?: (error: Error, records: number) => void;
  /** Retry backoff bounds for failed sends. */
  retryBackoffMs?: { initial: number; max: number };
}

interface Ticket {
  remaining: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Entry {
  record: EncodedRecord;
  ticket: Ticket | undefined;
}

/**
 * The bounded in-memory queue of `standard` writes: batched by size and linger, sent one
 * batch at a time in order, and retried until Kafka takes them: an enqueued record is never
 * dropped, unless Kafka refuses it for good (options.permanentError): then only the records it
 * refused fail, at once, and the queue moves on. When it holds `maxRecords`, enqueue throws STRATA_E_BACKPRESSURE instead of
 * growing: memory stays bounded and callers (HTTP 429) slow down.
 */
export class WriteQueue {
  private entries: Entry[] = [];
  private inFlight: Entry[] = [];
  private sending: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set when close() gave up: the send loop stops retrying. */
  private abandoned = false;
  private readonly backoff: { initial: number; max: number };

  constructor(private readonly options: WriteQueueOptions) {
    this.backoff = options.retryBackoffMs ?? { initial: 100, max: 5_000 };
  }

  /** Records queued or in flight. */
  get depth(): number {
    return this.entries.length + this.inFlight.length;
  }

  /** Whether `count` more records fit now. */
  hasRoomFor(count: number): boolean {
    return this.depth + count <= this.options.maxRecords;
  }

  /** Throws what enqueue would throw for `count` records: STRATA_E_SHUTTING_DOWN or STRATA_E_BACKPRESSURE. */
  assertRoomFor(count: number): void {
    if (this.closed) {
      throw new StrataError("STRATA_E_SHUTTING_DOWN", "the changelog writer is closed", {});
    }
    if (!this.hasRoomFor(count)) {
      throw new StrataError(
        "STRATA_E_BACKPRESSURE",
        `the write queue holds ${this.depth} of ${this.options.maxRecords} records; ${count} more do not fit, retry after a pause`,
        { queued: this.depth, limit: this.options.maxRecords, offered: count },
      );
    }
  }

  /**
   * Queues records; with `waitForAck`, the promise settles when Kafka acknowledged all of
   * them, otherwise at once. All or nothing: a batch that does not fit is refused whole.
   */
  enqueue(records: readonly EncodedRecord[], waitForAck: boolean): Promise<void> {
    this.assertRoomFor(records.length);
    let acked = Promise.resolve();
    let ticket: Ticket | undefined;
    if (waitForAck && records.length > 0) {
      acked = new Promise<void>((resolve, reject) => {
        ticket = { remaining: records.length, resolve, reject };
      });
    }
    for (const record of records) this.entries.push({ record, ticket });
    this.schedule();
    return acked;
  }

  /** Resolves when everything queued so far has been sent. */
  async flush(): Promise<void> {
    while (this.depth > 0) {
      this.startSending();
      await this.sending;
    }
  }

  /**
   * Stops taking records and sends what is queued, for at most `deadlineMs`. Records still
   * unsent then are lost to this process: their waiters are rejected and the count returned,
   * so the caller can report it.
   */
  async close(deadlineMs: number): Promise<number> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), deadlineMs);
    });
    const outcome = await Promise.race([this.flush().then(() => "done" as const), deadline]);
    clearTimeout(timer);
    clearTimeout(this.lingerTimer);
    if (outcome === "done") return 0;
    this.abandoned = true;
    const unsent = this.depth;
    this.rejectAll([...this.inFlight, ...this.entries]);
    this.entries = [];
    return unsent;
  }

  private schedule(): void {
    if (this.sending) return;
    if (this.entries.length >= this.options.batchSize) {
      this.startSending();
    } else if (!this.lingerTimer && this.entries.length > 0) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.startSending();
      }, this.options.lingerMs);
    }
  }

  private startSending(): void {
    if (this.sending || this.entries.length === 0) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.sending = this.sendLoop().finally(() => {
      this.sending = undefined;
      this.schedule();
    });
  }

  /** Sends full batches back to back while they are there; a partial batch waits for linger. */
  private async sendLoop(): Promise<void> {
    do {
      const batch = this.entries.splice(0, this.options.batchSize);
      this.inFlight = batch;
      const delivered = await this.deliver(batch);
      this.inFlight = [];
      if (!delivered) return this.rejectAll(batch);
    } while (this.entries.length >= this.options.batchSize || (this.closed && this.entries.length));
  }

  private rejectAll(entries: readonly Entry[]): void {
    const error = new StrataError(
      "STRATA_E_CHANGELOG_UNAVAILABLE",
      "the writer closed before Kafka acknowledged this write",
      {},
    );
    for (const entry of entries) entry.ticket?.reject(error);
  }

  /**
   * Sends entries until Kafka took or refused each of them, settling their waiters; false when
   * the queue was abandoned first. A batch refused for good may be refused for one record (one
   * too large): its records are then sent one by one, in order, so only the refused ones fail.
   */
  private async deliver(entries: Entry[]): Promise<boolean> {
    const outcome = await this.sendWithRetry(entries.map((e) => e.record));
    if (outcome === "abandoned") return false;
    if (outcome === "sent") {
      for (const entry of entries) {
        const ticket = entry.ticket;
        if (ticket && --ticket.remaining === 0) ticket.resolve();
      }
      return true;
    }
    if (entries.length > 1) {
      for (const entry of entries) if (!(await this.deliver([entry]))) return false;
      return true;
    }
    entries[0]!.ticket?.reject(outcome.refused);
    this.options.onRefused?.(outcome.refused, 1);
    return true;
  }

  private async sendWithRetry(
    records: EncodedRecord[],
  ): Promise<"sent" | "abandoned" | { refused: Error }> {
    let wait = this.backoff.initial;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.send(records);
        return "sent";
      } catch (error) {
        if (this.abandoned) return "abandoned";
        const refused = this.options.permanentError?.(error);
        if (refused) return { refused };
        this.options.onSendError(error, attempt);
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, this.backoff.max);
      }
    }
  }
}
