import { readFileSync } from "node:fs";
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from "kafkajs";
import type { KafkaAccess, KafkaSasl } from "../config/env.js";
import { mskIamTokenProvider } from "./msk-iam-token.js";

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** TLS and SASL for managed Kafka (MSK IAM, Event Hubs); loopback development uses neither. */
  ssl?: KafkaConfig["ssl"];
  sasl?: KafkaConfig["sasl"];
}

/** kafkajs connection settings from the environment's KafkaAccess (TLS files read here). */
export function kafkaConnection(access: KafkaAccess, clientId: string): KafkaConnection {
  const read = (file: string | undefined) => (file ? readFileSync(file, "utf8") : undefined);
  return {
    brokers: access.brokers,
    clientId,
    ssl: access.tls && {
      ca: access.tls.caFile ? [read(access.tls.caFile)!] : undefined,
      cert: read(access.tls.certFile),
      key: read(access.tls.keyFile),
    },
    sasl: access.sasl && saslOptions(access.sasl),
  };
}

/** kafkajs' SASL settings: MSK IAM is OAUTHBEARER with tokens signed by the AWS credentials. */
function saslOptions(sasl: KafkaSasl): KafkaConfig["sasl"] {
  if (sasl.mechanism === "aws-msk-iam") {
    return {
      mechanism: "oauthbearer",
      oauthBearerProvider: mskIamTokenProvider({ region: sasl.region }),
    };
  }
  // The same three user-and-password shapes kafkajs types one mechanism at a time.
  return sasl as KafkaConfig["sasl"];
}

export type KafkaLog = (level: "warn" | "error", message: string, fields: object) => void;

/**
 * Warnings we cause on purpose. The writer bounds the idempotent producer's retries so that
 * a write fails with STRATA_E_CHANGELOG_UNAVAILABLE instead of hanging while Kafka is down;
 * retries inside that bound are still deduplicated by the broker.
 */
const EXPECTED_WARNINGS = [/^Limiting retries for the idempotent producer/];

/** A kafkajs client whose warnings and errors go to the process' own log. */
export function createKafka(connection: KafkaConnection, log: KafkaLog): Kafka {
  return new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: connection.ssl,
    sasl: connection.sasl,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, namespace, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        if (EXPECTED_WARNINGS.some((pattern) => pattern.test(message))) return;
        log(
          level === logLevel.ERROR ? "error" : "warn",
          `kafkajs ${namespace}: ${message}`,
          fields,
        );
      },
  });
}
