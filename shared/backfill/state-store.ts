import { StrataError } from "../errors.js";
import { LuaScript } from "../online-store/lua-script.js";
import type { RedisClient } from "../online-store/pipeline.js";
import { backfillKeys, generationPointerKey } from "../online-store/redis-layout.js";
import type { BackfillStage, BackfillState } from "./state.js";

const STATE_SCRIPT = LuaScript.fromFile("backfill-state");

/** What an update changes besides the state (lua/backfill-state.lua). */
export interface StateSideEffects {
  /** The view's writing generations: undefined unchanged, [] removed. */
  writing?: readonly number[];
  /** SET the generation pointer to this generation: the flip. */
  pointer?: number;
  /** SET the populated marker (the generation holding the view's history). */
  populated?: number;
}

/** A view major's backfill state in Redis; every change fenced by the lease's token. */
export class BackfillStateStore {
  private readonly keys: string[];

  constructor(
    private readonly client: RedisClient,
    readonly project: string,
    readonly viewKey: string,
  ) {
    this.keys = [
      backfillKeys.lease(project, viewKey),
      backfillKeys.state(project, viewKey),
      backfillKeys.writing(project),
      generationPointerKey(project, viewKey),
      backfillKeys.populated(project, viewKey),
      backfillKeys.epoch(project),
      backfillKeys.generations(project, viewKey),
    ];
  }

  async get(): Promise<BackfillState | undefined> {
    const text = await this.client.get(this.keys[1]!);
    return text === null ? undefined : (JSON.parse(text) as BackfillState);
  }

  /**
   * Creates the state of a new backfill: allocates its epoch (INCR) and a generation never used
   * before, and names both generations in the writing hash, in one call.
   */
  async begin(
    token: string,
    state: Omit<BackfillState, "epoch" | "newGeneration" | "oldGeneration">,
    allowedFrom: readonly BackfillStage[],
  ): Promise<BackfillState> {
    const template = JSON.stringify({
      ...state,
      epoch: "$EPOCH",
      newGeneration: "$NEW",
      oldGeneration: "$OLD",
    });
    const reply = (await this.run(token, "begin", ["none", ...allowedFrom], template, {})) as [
      number,
      number,
      number,
    ];
    return { ...state, epoch: reply[0], newGeneration: reply[1], oldGeneration: reply[2] };
  }

  /** Replaces the state (and applies the side effects) if the lease and the stage allow it. */
  async update(
    token: string,
    expected: readonly BackfillStage[],
    state: BackfillState,
    effects: StateSideEffects = {},
  ): Promise<void> {
    state.timestamps.updated = new Date().toISOString();
    await this.run(token, "update", expected, JSON.stringify(state), effects);
  }

  private async run(
    token: string,
    op: "begin" | "update",
    expected: readonly string[],
    stateText: string,
    effects: StateSideEffects,
  ): Promise<unknown> {
    try {
      return await this.client.eval(
        STATE_SCRIPT.source,
        this.keys.length,
        ...this.keys,
        token,
        op,
        expected.join(","),
        stateText,
        this.viewKey,
        effects.writing === undefined ? "-" : effects.writing.join(","),
        effects.pointer === undefined ? "" : String(effects.pointer),
        effects.populated === undefined ? "" : String(effects.populated),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith("LEASE")) {
        throw new StrataError(
          "STRATA_E_BACKFILL_LEASE_HELD",
          `this coordinator no longer holds the backfill lease of ${this.viewKey} (holder: ${message.slice(6) || "none"}); nothing was changed`,
          { view: this.viewKey, holder: message.slice(6) },
        );
      }
      if (message.startsWith("STAGE")) {
        const stage = message.slice(6);
        throw new StrataError(
          "STRATA_E_BACKFILL_STAGE",
          `the backfill of ${this.viewKey} is ${stage === "none" ? "not started" : `in stage ${stage}`}, not ${expected.filter((s) => s !== "none").join(" or ")}`,
          { view: this.viewKey, stage, expected },
        );
      }
      throw error;
    }
  }
}
