// Random aggregation event histories in rounds, for the online/offline parity test: round i
// holds events with event times in (t(i-1), t(i)], produced mostly in time order but with some
// moved later in the stream, by less or more than the allowed lateness, and some sharing a
// millisecond. Everything of round i is produced before the read at t(i), and nothing of it
// before the read at t(i-1): exactly what a read at t(i) and the offline rule "event time <= t"
// can agree on.
import { seededRandom } from "./seeded-random.js";

export interface ParityEvent {
  cardId: number;
  ts: number;
  amount: number | null;
  qty: number;
}

export interface ParityRound {
  /** The read time after this round. */
  readAt: number;
  /** In production order. */
  events: ParityEvent[];
}

export function parityRounds(options: {
  seed: number;
  start: number;
  rounds: number;
  roundMs: number;
  eventsPerRound: number;
  cards: readonly number[];
}): ParityRound[] {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const out: ParityRound[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const from = options.start + r * options.roundMs;
    // A read time anywhere in the round's last quarter: not only on tile boundaries.
    const readAt = from + options.roundMs - Math.floor(random() * (options.roundMs / 4));
    const events: ParityEvent[] = [];
    for (let i = 0; i < options.eventsPerRound; i++) {
      const ts =
        i > 0 && random() < 0.1
          ? events[i - 1]!.ts // a tie on the event millisecond
          : from + 1 + Math.floor(random() * (readAt - from));
      events.push({
        cardId: pick(options.cards),
        ts,
        amount: random() < 0.15 ? null : Math.round(random() * 100_000) / 100,
        qty: Math.floor(random() * 10),
      });
    }
    events.sort((a, b) => a.ts - b.ts);
    // Move about a fifth of the events later in the stream: each arrives after newer ones,
    // within the lateness or beyond it depending on how far it moves.
    for (let i = 0; i < events.length; i++) {
      if (random() >= 0.2) continue;
      const [late] = events.splice(i, 1);
      const to = Math.min(events.length, i + 1 + Math.floor(random() * events.length * 0.5));
      events.splice(to, 0, late!);
    }
    out.push({ readAt, events });
  }
  return out;
}
