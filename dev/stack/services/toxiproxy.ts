import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { LOOPBACK } from "../endpoints.js";
import { proxyAddress, type StackLayout } from "../layout.js";
import { logFile, stackPaths } from "../paths.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  runCommand,
  startDetached,
  stopRecorded,
} from "../processes.js";
import { StackError } from "../stack-error.js";
import { ToxiproxyClient, type ToxiProxy } from "../toxiproxy-client.js";
import { waitUntil } from "../wait.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const NAME = "toxiproxy";
const TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.5.0";
/** `go install` names the binary after the package folder: cmd/server. */
const BINARY = path.join(stackPaths.toolsBin, "server");
const GO_CANDIDATES = ["go", "/usr/local/go/bin/go"];
const READY_TIMEOUT_MS = 20_000;
const GO_INSTALL_TIMEOUT_MS = 10 * 60_000;

/**
 * toxiproxy in front of every region's PEER listener (proxy `kafka-<region>`), so that a
 * fault test can cut one region's replication links: MirrorMaker 2 reaches each broker only
 * through these proxies. Its HTTP API listens on 127.0.0.1:18474 (+ offset).
 */
export class Toxiproxy implements StackService {
  readonly name = NAME;
  private readonly dir = path.join(stackPaths.data, NAME);

  constructor(private readonly layout: StackLayout) {}

  get apiAddress(): string {
    return `${LOOPBACK}:${this.layout.toxiproxyApiPort}`;
  }

  client(): ToxiproxyClient {
    return new ToxiproxyClient(this.apiAddress);
  }

  /** The proxies the layout wants: listen on the advertised peer port, forward to the PEER listener. */
  wantedProxies(): ToxiProxy[] {
    return this.layout.regions.map((region) => ({
      name: region.proxyName,
      listen: proxyAddress(region),
      upstream: `${LOOPBACK}:${region.peerPort}`,
      enabled: true,
    }));
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    let outcome: UpOutcome = "reused";
    if (ourRunningPid(NAME, this.dir) === undefined || !(await this.answers())) {
      await this.down();
      await this.start(log);
      outcome = "started";
    }
    // populate keeps an existing proxy as it is (a cut one stays disabled): reset enables every
    // proxy and drops every toxic, so `up` always leaves the links whole.
    await this.client().populate(this.wantedProxies());
    await this.client().reset();
    return outcome;
  }

  down(): Promise<boolean> {
    return stopRecorded(NAME, this.dir, 5_000);
  }

  status(): ServiceStatus {
    const pid = ourRunningPid(NAME, this.dir);
    return {
      name: NAME,
      state: pid === undefined ? "stopped" : "running",
      address: this.apiAddress,
      pids: pid === undefined ? [] : [pid],
    };
  }

  private async start(log: (line: string) => void): Promise<void> {
    await ensureToxiproxyBinary(log);
    await Promise.all([
      requireFreePort(this.layout.toxiproxyApiPort, LOOPBACK, "the toxiproxy API"),
      ...this.layout.regions.map((region) =>
        requireFreePort(region.proxyPort, LOOPBACK, `proxy ${region.proxyName}`),
      ),
    ]);
    mkdirSync(this.dir, { recursive: true });
    const pid = startDetached({
      name: NAME,
      command: BINARY,
      args: ["-host", LOOPBACK, "-port", String(this.layout.toxiproxyApiPort)],
      workDir: this.dir,
      logFile: logFile(NAME),
    });
    const outcome = await waitUntil(() => this.answers(), {
      timeoutMs: READY_TIMEOUT_MS,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.down();
      throw new StackError(
        `toxiproxy ${outcome === "died" ? "exited during start-up" : `did not answer on ${this.apiAddress} within ${READY_TIMEOUT_MS / 1000}s`}`,
        `see its log: ${logFile(NAME)}`,
      );
    }
  }

  private async answers(): Promise<boolean> {
    return (await this.client().version()).length > 0;
  }
}

/** Builds toxiproxy's server into .stack/tools/bin with `go install` on the first multi-region start. */
async function ensureToxiproxyBinary(log: (line: string) => void): Promise<void> {
  if (existsSync(BINARY)) return;
  const go = await findGo();
  log(`toxiproxy  building ${TOXIPROXY_MODULE} with go install (first start only) ...`);
  mkdirSync(stackPaths.toolsBin, { recursive: true });
  await runCommand(
    go,
    ["install", TOXIPROXY_MODULE],
    "go install toxiproxy",
    GO_INSTALL_TIMEOUT_MS,
    { ...process.env, GOBIN: stackPaths.toolsBin },
  );
  if (!existsSync(BINARY)) {
    throw new StackError(`go install toxiproxy finished, but ${BINARY} is not there`);
  }
}

async function findGo(): Promise<string> {
  for (const candidate of GO_CANDIDATES) {
    try {
      await runCommand(candidate, ["version"], "go version", 10_000);
      return candidate;
    } catch {
      // Try the next place Go is usually installed.
    }
  }
  throw new StackError(
    "go is not installed; a multi-region stack builds toxiproxy with it on first start",
    "install Go 1.20+ (https://go.dev/dl/, or Debian's golang-go), put it on PATH, then run up again",
  );
}
