// npm run build:cdc-plugin [-- --config-providers <jar>]: the Debezium PostgreSQL plugin the
// cloud stacks deploy (docs/deploy.md, "Change data capture"). Resolves the connector's
// run-time jars with Maven from dev/connect/debezium/pom.xml into artifacts/cdc/plugin/ (the folder
// infra/cdc/plugin/Dockerfile copies into the Azure Connect image) and zips that folder into
// the MSK Connect custom plugin strata:cdc.pluginArchive points at. AWS also needs the MSK
// config providers jar (github.com/aws-samples/msk-config-providers, a release's `-all.jar`),
// which is not on Maven Central: pass it with --config-providers and it goes into the zip.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../dev/stack/paths.js";
import { DEBEZIUM_VERSION, PLUGIN_ARCHIVE } from "../infra/cdc/names.js";

const { values } = parseArgs({ options: { "config-providers": { type: "string" } } });
const pom = path.join(repoRoot, "dev/connect/debezium/pom.xml");
const pinned = /<debezium\.version>([^<]+)<\/debezium\.version>/.exec(
  readFileSync(pom, "utf8"),
)?.[1];
if (pinned !== DEBEZIUM_VERSION) {
  throw new Error(`${pom} pins Debezium ${pinned}, infra/cdc/names.ts ${DEBEZIUM_VERSION}`);
}
const archive = path.join(repoRoot, PLUGIN_ARCHIVE);
const folder = path.join(path.dirname(archive), "plugin");
rmSync(folder, { recursive: true, force: true });
rmSync(archive, { force: true });
execFileSync(
  "mvn",
  [
    "-B",
    "-q",
    "-f",
    pom,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${path.join(folder, "debezium-connector-postgres")}`,
  ],
  { stdio: "inherit" },
);
const providers = values["config-providers"];
if (providers !== undefined) {
  if (!existsSync(providers)) throw new Error(`--config-providers ${providers} does not exist`);
  mkdirSync(path.join(folder, "msk-config-providers"), { recursive: true });
  copyFileSync(providers, path.join(folder, "msk-config-providers", path.basename(providers)));
} else {
  console.warn(
    "no --config-providers: the zip lacks the MSK config providers, so MSK Connect could not resolve ${secretsmanager:...}; fine for the Azure image only",
  );
}
// -X: no extra file attributes, so the same jars give the same zip.
execFileSync("zip", ["-q", "-r", "-X", archive, "."], { cwd: folder, stdio: "inherit" });
console.log(`built ${path.relative(process.cwd(), archive)} (Debezium ${DEBEZIUM_VERSION})`);
