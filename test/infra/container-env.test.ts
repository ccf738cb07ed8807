import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadIngestConfig } from "../../functions/ingest/config.js";
import { loadServeConfig } from "../../functions/serve/config.js";
import { INGEST_METRICS_PORT, SERVE_ADMIN_PORT, SERVE_PORT } from "../../infra/region-stack.js";
import { stackContainers } from "./container-env.js";
import { runStack, stackFileConfig } from "./pulumi-mocks.js";

// Every example stack's containers start only if the runtime accepts the environment the stack
// gives them: the same loaders the entry points call, fed that environment, must not refuse it.
for (const stack of ["aws-us-east-1", "azure-westeurope", "onprem-dc1"]) {
  describe(`the ${stack} containers' environment`, () => {
    it("is accepted by the serve and ingest config loaders", async () => {
      const run = await runStack(stack, stackFileConfig(stack));
      const containers = stackContainers(run);
      assert.deepEqual(
        [...new Set(containers.map((c) => c.role))].sort(),
        ["ingest", "serve"],
        "the stack runs both entry points",
      );
      for (const container of containers) {
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
