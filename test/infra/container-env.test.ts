import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadIngestConfig } from "../../functions/ingest/config.js";
import { loadReconcileConfig, parseRegions } from "../../functions/reconcile/config.js";
import { loadServeConfig } from "../../functions/serve/config.js";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT, SERVE_PORT } from "../../infra/region-stack.js";
import { EnvReader } from "../../shared/config/env.js";
import { stackContainers } from "./container-env.js";
import { runStack, stackFileConfig, withPeerCredentials } from "./pulumi-mocks.js";

const peerRegions = (file: Record<string, unknown>) =>
  ((file["strata:peers"] ?? []) as { region: string }[]).map((p) => p.region);

/** Peers for the example stacks that have none, so that every cloud's reconcile job is fed. */
const EXTRA_PEERS: Record<string, object[]> = {
  "azure-westeurope": (stackFileConfig("aws-eu-west-1")["strata:peers"] as object[]).slice(0, 1),
  "onprem-dc1": [
    {
      region: "eu-west-1",
      cloud: "aws",
      bootstrap: "b-1.euw1.kafka.eu-west-1.amazonaws.com:9096",
      auth: "scram-sha-512",
      username: "strata-peer",
      redis: "cluster://clustercfg.strata-demo-eu-west-1.euw1.cache.amazonaws.com:6379",
    },
  ],
};

const STACKS: [string, string, object[] | undefined][] = [
  ["aws-us-east-1", "aws-us-east-1", undefined],
  ["azure-westeurope", "azure-westeurope", undefined],
  ["onprem-dc1", "onprem-dc1", undefined],
  ["aws-eu-west-1", "aws-eu-west-1", undefined],
  ["azure-westeurope (given a peer)", "azure-westeurope", EXTRA_PEERS["azure-westeurope"]],
  ["onprem-dc1 (given a peer)", "onprem-dc1", EXTRA_PEERS["onprem-dc1"]],
];

// Every example stack's containers start only if the runtime accepts the environment the stack
// gives them: the same loaders the entry points call, fed that environment, must not refuse it.
for (const [label, stack, peers] of STACKS) {
  describe(`the ${label} containers' environment`, () => {
    it("is accepted by the serve, ingest and reconcile config loaders", async () => {
      const file: Record<string, unknown> = {
        ...stackFileConfig(stack),
        ...(peers ? { "strata:peers": peers } : {}),
      };
      const run = await runStack(stack, withPeerCredentials(file));
      const image = (file["strata:serving"] as { image: string }).image;
      const containers = stackContainers(run, image);
      const peered = file["strata:peers"] !== undefined;
      assert.deepEqual(
        [...new Set(containers.map((c) => c.role))].sort(),
        peered ? ["ingest", "reconcile", "serve"] : ["ingest", "serve"],
        "the stack runs both entry points, and the reconcile job when it has peers",
      );
      for (const container of containers) {
        // Every container follows the stack's project's published registry: STRATA_PROJECT from
        // the stack, and no STRATA_REPO from the stack or the image (a file would win).
        assert.equal(container.env.STRATA_PROJECT, file["strata:project"], container.owner);
        assert.equal(container.env.STRATA_REPO, undefined, `${container.owner}: STRATA_REPO`);
        if (container.role === "reconcile") {
          let config: ReturnType<typeof loadReconcileConfig>;
          try {
            config = loadReconcileConfig(container.env);
          } catch (error) {
            assert.fail(`${container.owner} (reconcile): ${(error as Error).message}`);
          }
          // The reference is this region at the Redis its consumer writes, then every peer.
          const local = new EnvReader(container.env).redis();
          assert.deepEqual(
            config.regions.map((r) => r.name),
            [file["strata:region"], ...peerRegions(file)],
            container.owner,
          );
          assert.deepEqual(
            "clusterNodes" in config.regions[0]!.address && config.regions[0]!.address.clusterNodes,
            "clusterNodes" in local && local.clusterNodes,
            `${container.owner}: the reference is the consumer's Redis`,
          );
          // Every stack's Redis speaks TLS only: the job must reach each region over TLS.
          assert.deepEqual(
            config.regions.filter((r) => !r.address.tls).map((r) => r.name),
            [],
            `${container.owner}: regions the job would reach without TLS`,
          );
          assert.equal(
            config.regions[0]!.address.tls?.caFile,
            local.tls?.caFile,
            `${container.owner}: the consumer's Redis CA`,
          );
          assert.ok(config.kafka, `${container.owner}: repairs go to the local changelog`);
          // The registry it compares by: the winner over this region's topic and the peers'
          // copies, as serving and the consumer follow it.
          assert.deepEqual(
            config.registry.kind === "published" && {
              project: config.registry.project,
              peerRegions: config.registry.peerRegions,
            },
            { project: file["strata:project"], peerRegions: peerRegions(file) },
            `${container.owner}: the registry it compares by`,
          );
          continue;
        }
        const load = container.role === "serve" ? loadServeConfig : loadIngestConfig;
        let config: ReturnType<typeof load>;
        try {
          config = load(container.env);
        } catch (error) {
          assert.fail(`${container.owner} (${container.role}): ${(error as Error).message}`);
        }
        // Both follow the project's published registry, and each peer's copy of it.
        assert.deepEqual(
          config.registry.kind === "published" && {
            project: config.registry.project,
            peerRegions: config.registry.peerRegions ?? [],
          },
          { project: file["strata:project"], peerRegions: peerRegions(file) },
          `${container.owner}: the registry it follows`,
        );
        // Each peer: its replicated changelog applied by the consumer, its Redis known to serving
        // (for wait: "replicated") in STRATA_RECONCILE_REGIONS' name=target form; nothing alone.
        const peers = (file["strata:peers"] ?? []) as { region: string; redis: string }[];
        if ("peerRegions" in config) {
          assert.deepEqual(config.peerRegions, peerRegions(file), container.owner);
          assert.equal(container.env.STRATA_PEER_REDIS, undefined, container.owner);
        } else {
          const peerRedis = container.env.STRATA_PEER_REDIS;
          if (peers.length === 0) assert.equal(peerRedis, undefined, container.owner);
          else {
            assert.deepEqual(
              parseRegions(
                `${file["strata:region"] as string}=redis://local:6379;${peerRedis}`,
                "x",
              )
                .slice(1)
                .map((r) => r.name),
              peerRegions(file),
              container.owner,
            );
            assert.equal(
              peerRedis,
              peers.map((p) => `${p.region}=${p.redis}`).join(";"),
              container.owner,
            );
          }
        }
        // The ports the stack routes, probes and scrapes are the ones the process listens on.
        const ports = "admin" in config ? [config.port, config.admin.port] : [config.metricsPort];
        assert.deepEqual(
          ports,
          container.role === "serve" ? [SERVE_PORT, SERVE_ADMIN_PORT] : [INGEST_METRICS_PORT],
          container.owner,
        );
      }
    });
  });
}
