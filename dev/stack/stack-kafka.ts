import { Kafka, logLevel, type Admin } from "kafkajs";
import { kafkaAddress, type RegionLayout } from "./layout.js";

/** A short-lived client that fails fast: readiness probes must never hang or retry on their own. */
export function stackKafka(region: RegionLayout, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [kafkaAddress(region)],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
}

export async function withAdmin<T>(region: RegionLayout, use: (admin: Admin) => Promise<T>) {
  const admin = stackKafka(region, "strata-stack-admin").admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}
