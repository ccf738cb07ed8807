import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { UserError } from "./errors.js";

/** The config file's name, looked for in the current folder and its parents. */
export const CONFIG_FILE = "strata.json";

/**
 * A feature repo's strata.json: where its repo file is, which server `push` and `get` talk to,
 * and any of the environment variables the processes read (REDIS_URL, KAFKA_BROKERS,
 * STRATA_REGION, ...; docs/cli.md). Everything in it is a default: the environment and flags win.
 */
export interface ConfigFile {
  /** The feature repo file, relative to strata.json (STRATA_REPO): what plan and apply publish. */
  repo?: string;
  /**
   * The project (STRATA_PROJECT): serve and ingest follow its published registry rather than
   * loading `repo` themselves (cli/process-env.ts).
   */
  project?: string;
  /** The Strata server that push and get call (STRATA_URL). */
  url?: string;
  /** Environment variables, by name; strings (numbers are taken as their decimal text). */
  env?: Record<string, string>;
}

export interface LoadedConfig {
  path: string;
  /** The file's settings as environment variables, paths made absolute. */
  env: Record<string, string>;
}

/** Variables that hold paths: relative ones are relative to strata.json's folder. */
const PATH_VARIABLES = new Set(["STRATA_REPO", "STRATA_API_KEYS_FILE"]);

/**
 * The config that applies: the `--config` file, else STRATA_CONFIG, else the nearest
 * strata.json from `cwd` upwards; none is fine (everything comes from the environment then).
 */
export function findConfig(
  cwd: string,
  env: NodeJS.ProcessEnv,
  explicit?: string,
): LoadedConfig | undefined {
  const named = explicit ?? (env.STRATA_CONFIG || undefined);
  if (named !== undefined) {
    const file = path.resolve(cwd, named);
    if (!existsSync(file)) {
      throw new UserError(
        `config file ${file} does not exist`,
        "pass --config <path to strata.json>, or leave it out",
      );
    }
    return loadConfig(file);
  }
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, CONFIG_FILE);
    if (existsSync(file)) return loadConfig(file);
    if (path.dirname(dir) === dir) return undefined;
  }
}

export function loadConfig(file: string): LoadedConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(
      `${file} is not valid JSON: ${(error as Error).message}`,
      'strata.json holds {"repo": "...", "project": "...", "url": "...", "env": {...}}; see docs/cli.md',
    );
  }
  const config = checkConfig(parsed, file);
  const dir = path.dirname(file);
  const env: Record<string, string> = { ...config.env };
  if (config.repo !== undefined) env.STRATA_REPO = config.repo;
  if (config.url !== undefined) env.STRATA_URL = config.url;
  if (config.project !== undefined) env.STRATA_PROJECT = config.project;
  for (const name of PATH_VARIABLES) {
    if (env[name] !== undefined) env[name] = path.resolve(dir, env[name]);
  }
  return { path: file, env };
}

function checkConfig(value: unknown, file: string): ConfigFile {
  const bad = (what: string) =>
    new UserError(
      `${file}: ${what}`,
      'strata.json holds {"repo": "...", "project": "...", "url": "...", "env": {...}}; see docs/cli.md',
    );
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad("the file must hold a JSON object");
  }
  const out: ConfigFile = {};
  for (const [key, member] of Object.entries(value)) {
    if (key === "$comment") continue;
    if (key === "repo" || key === "url" || key === "project") {
      if (typeof member !== "string" || member === "") throw bad(`"${key}" must be a string`);
      out[key] = member;
    } else if (key === "env") {
      if (typeof member !== "object" || member === null || Array.isArray(member)) {
        throw bad('"env" must be an object of variable name to value');
      }
      out.env = {};
      for (const [name, v] of Object.entries(member as Record<string, unknown>)) {
        if (typeof v !== "string" && typeof v !== "number") {
          throw bad(`env.${name} must be a string or a number`);
        }
        out.env[name] = String(v);
      }
    } else {
      throw bad(`unknown setting "${key}" (known: repo, project, url, env)`);
    }
  }
  return out;
}

/**
 * The environment a command runs with: strata.json's settings, then the process environment
 * over them, then the command's flags over both. Empty values count as unset, as EnvReader
 * reads them.
 */
export function layeredEnv(
  env: NodeJS.ProcessEnv,
  config: LoadedConfig | undefined,
  flags: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...config?.env };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== "") merged[name] = value;
    else if (merged[name] === undefined) merged[name] = value;
  }
  for (const [name, value] of Object.entries(flags)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}
