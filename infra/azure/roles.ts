/**
 * Built-in Azure roles the region's managed identity holds, each on one resource: nothing
 * broader (no Owner, no Contributor), and nothing on the subscription or resource group.
 */
export const ROLE_DEFINITIONS = {
  /** Read secret values from the region's Key Vault. */
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  /** Produce to the changelog (for Entra ID auth to Event Hubs' Kafka endpoint). */
  eventHubsDataSender: "2b629674-e913-4c01-ae53-ef4638d8f975",
  /** Consume the changelog. */
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  /** Publish metrics to the Azure Monitor workspace. */
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
} as const;

/** Roles that would give the region's identity more than it needs. */
export const BROAD_ROLES = new Set([
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
  "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
]);

export function roleDefinitionId(subscriptionId: string, role: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}

/** Data-plane roles of the offline store, the functions' host storage and the drift query. */
export const WORKLOAD_ROLES = {
  /** Read, write and delete blobs (the sink, on the warehouse container only). */
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Read blobs (the backfill coordinator, on the warehouse container only). */
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410ae84e7d1",
  /** What the Functions host needs on its own storage account (leases, keys), identity-based. */
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  /** Query an Azure Monitor workspace's Prometheus metrics (the drift function). */
  monitoringDataReader: "b0d8363b-8ddd-447d-831f-62ca05bff136",
} as const;
