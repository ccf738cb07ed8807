// npm run bench -- <name>: runs bench/<name>.ts against the local stack (brought up if
// needed), prints its table, and writes bench/results/<name>.json. Benchmarks are not
// tests: nothing here passes or fails on a timing.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stackUp } from "../dev/stack/stack.js";

export interface BenchTableRow {
  measurement: string;
  [column: string]: string | number;
}

export interface BenchModule {
  /** One line on what is measured and against which floor. */
  description: string;
  run(
    log: (line: string) => void,
  ): Promise<{ results: Record<string, unknown>; table: BenchTableRow[] }>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(name: string | undefined): Promise<void> {
  const available = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
    .map((f) => f.slice(0, -3));
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run bench -- <${available.join("|")}>`);
    process.exitCode = 2;
    return;
  }
  const bench = (await import(`./${name}.js`)) as BenchModule;
  console.log(`bench ${name}: ${bench.description}`);
  await stackUp({ log: () => {} });
  const started = new Date();
  const { results, table } = await bench.run((line) => console.log(`  ${line}`));
  console.table(table);
  const file = path.join(here, "results", `${name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  writeFileSync(
    file,
    JSON.stringify(
      { bench: name, startedAt: started.toISOString(), machine, ...results },
      null,
      2,
    ) + "\n",
  );
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main(process.argv[2]).catch((error: unknown) => {
  console.error("bench failed:", error);
  process.exitCode = 1;
});
