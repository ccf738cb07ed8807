import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadIngestConfig } from "../../functions/ingest/config.js";
import { loadServeConfig } from "../../functions/serve/config.js";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT, SERVE_PORT } from "../../infra/region-stack.js";
import { EnvReader } from "../../shared/config/env.js";
import { stackContainers } from "./container-env.js";
import { runStack, stackFileConfig, withPeerCredentials } from "./pulumi-mocks.js";

// Every example stack's containers start only if the runtime accepts the environment the stack
// gives them: the same loaders the entry points call, fed that environment, must not refuse it.
for (const stack of ["aws-us-east-1", "azure-westeurope", "onprem-dc1", "aws-eu-west-1"]) {
  describe(`the ${stack} containers' environment`, () => {
    it("is accepted by the serve and ingest config loaders (and the reconcile job's Redis and Kafka readers)", async () => {
      const file = stackFileConfig(stack);
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
        if (container.role === "reconcile") {
          // Its entry point is being written; it reaches Redis and Kafka like the consumer.
          const reader = new EnvReader(container.env);
          try {
            reader.redis();
            reader.kafka(true);
          } catch (error) {
            assert.fail(`${container.owner} (reconcile): ${(error as Error).message}`);
          }
          continue;
        }
        const load = container.role === "serve" ? loadServeConfig : loadIngestConfig;
        let config: ReturnType<typeof load>;
        try {
          config = load(container.env);
        } catch (error) {
          assert.fail(`${container.owner} (${container.role}): ${(error as Error).message}`);
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
