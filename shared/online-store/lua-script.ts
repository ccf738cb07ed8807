import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { RedisClient } from "./pipeline.js";

const LUA_DIR = fileURLToPath(new URL("../../lua/", import.meta.url));

/**
 * A Redis script called by SHA. Loaded once on every master at start-up; when a server
 * answers NOSCRIPT (it restarted, failed over, or flushed its script cache) the caller
 * re-runs just those commands with EVAL, which also caches the script there again.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  static fromFile(name: string): LuaScript {
    return new LuaScript(name, readFileSync(`${LUA_DIR}${name}.lua`, "utf8"));
  }

  async loadOn(client: RedisClient): Promise<void> {
    const servers = client instanceof Redis ? [client] : client.nodes("master");
    await Promise.all(servers.map((server) => server.script("LOAD", this.source)));
  }

  /** EVALSHA arguments for a one-key call. */
  evalsha(key: string, args: (string | number)[]): { name: string; args: (string | number)[] } {
    return { name: "evalsha", args: [this.sha, 1, key, ...args] };
  }

  /** The same call as EVAL, for the NOSCRIPT fallback. */
  eval(key: string, args: (string | number)[]): { name: string; args: (string | number)[] } {
    return { name: "eval", args: [this.source, 1, key, ...args] };
  }
}

export function isNoScript(error: Error | null): boolean {
  return error !== null && error.message.startsWith("NOSCRIPT");
}
