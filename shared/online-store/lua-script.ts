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

  /** The start of an EVALSHA command on these keys; callers push the script's ARGV after it. */
  evalshaArgv(keys: readonly string[]): (string | number)[] {
    return ["evalsha", this.sha, keys.length, ...keys];
  }

  /** The same command as EVAL, for the NOSCRIPT fallback. */
  asEval(evalshaArgv: readonly (string | number)[]): (string | number)[] {
    const argv = [...evalshaArgv];
    argv[0] = "eval";
    argv[1] = this.source;
    return argv;
  }
}

export function isNoScript(error: Error | null): boolean {
  return error !== null && error.message.startsWith("NOSCRIPT");
}
