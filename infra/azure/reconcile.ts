import app from "@pulumi/azure-native/app/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { RECONCILE_COMMAND, reconcileEnvironment } from "../region-stack.js";

export interface AzureReconcileArgs {
  config: StackConfig;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  environmentId: pulumi.Input<string>;
  identityId: pulumi.Input<string>;
  /** The consumer's variables (no ports) and the vault references they name. */
  env: { name: string; value?: pulumi.Input<string>; secretRef?: string }[];
  secrets: { name: string; keyVaultUrl: pulumi.Input<string>; identity: pulumi.Input<string> }[];
  grants: pulumi.Resource[];
}

/**
 * The anti-entropy job on a schedule: a Container Apps job with a schedule trigger (UTC cron)
 * in the region's internal environment, one replica of the image running
 * `node dist/functions/reconcile/main.js`, with the consumer's access to Redis and Event Hubs.
 */
export class AzureReconcile extends pulumi.ComponentResource {
  constructor(name: string, args: AzureReconcileArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:azure:Reconcile", name, {}, opts);
    const { config } = args;
    new app.Job(
      name,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        environmentId: args.environmentId,
        workloadProfileName: "Consumption",
        identity: { type: "UserAssigned", userAssignedIdentities: [args.identityId] },
        configuration: {
          triggerType: "Schedule",
          scheduleTriggerConfig: {
            cronExpression: config.reconcileSchedule,
            parallelism: 1,
            replicaCompletionCount: 1,
          },
          // A run that outlives the interval would overlap the next one.
          replicaTimeout: 600,
          replicaRetryLimit: 0,
          secrets: args.secrets,
        },
        template: {
          containers: [
            {
              name: "reconcile",
              image: config.serving.image,
              command: RECONCILE_COMMAND,
              env: [...args.env, ...reconcileEnvironment(config, args.env)],
              resources: {
                cpu: config.serving.cpu,
                memory: `${(config.serving.memoryMiB / 1024).toFixed(1)}Gi`,
              },
            },
          ],
        },
      },
      { parent: this, dependsOn: args.grants },
    );
    this.registerOutputs({});
  }
}
