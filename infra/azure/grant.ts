import authorization from "@pulumi/azure-native/authorization/index.js";
import type * as pulumi from "@pulumi/pulumi";
import { roleDefinitionId } from "./roles.js";

/**
 * One built-in role for one identity on exactly one resource (a container, a secret, a
 * workspace): nothing is granted on a resource group or subscription.
 */
export function grant(
  name: string,
  principalId: pulumi.Input<string>,
  scope: pulumi.Input<string>,
  role: string,
  opts: pulumi.CustomResourceOptions,
): authorization.RoleAssignment {
  const client = authorization.getClientConfigOutput(opts);
  return new authorization.RoleAssignment(
    name,
    {
      principalId,
      principalType: "ServicePrincipal",
      scope,
      roleDefinitionId: client.subscriptionId.apply((sub) => roleDefinitionId(sub, role)),
    },
    opts,
  );
}
