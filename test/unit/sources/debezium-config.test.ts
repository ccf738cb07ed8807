import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cdcSlotName,
  cdcTableTopic,
  debeziumConnectorConfig,
} from "../../../shared/sources/debezium-config.js";

const connection = {
  host: "db.internal",
  port: 5432,
  dbname: "shop",
  user: "strata_cdc",
  password: "${secretsmanager:shop-db:password}",
};

describe("the Debezium PostgreSQL connector config", () => {
  const { name, config } = debeziumConnectorConfig(
    "fraud-eu",
    "shop",
    [
      { name: "cards", database: "shop", table: "public.cards" },
      { name: "other", database: "crm", table: "public.people" },
      { name: "cards_again", database: "shop", table: "public.cards" },
      { name: "tx", database: "shop", table: "billing.transactions" },
    ],
    connection,
  );

  it("names the connector, topics, slot and publication per project and database", () => {
    assert.equal(name, "strata-fraud-eu-cdc-shop");
    assert.equal(config["topic.prefix"], "strata.fraud-eu.cdc");
    assert.equal(cdcTableTopic("fraud-eu", "public.cards"), "strata.fraud-eu.cdc.public.cards");
    assert.equal(config["slot.name"], "strata_fraud_eu_shop");
    assert.equal(config["publication.name"], "strata_fraud_eu_shop");
  });

  it("captures exactly this database's tables, once each, as escaped regexes", () => {
    assert.equal(config["table.include.list"], "billing\\.transactions,public\\.cards");
  });

  it("uses pgoutput, an initial snapshot and JSON without schemas", () => {
    assert.equal(config["connector.class"], "io.debezium.connector.postgresql.PostgresConnector");
    assert.equal(config["plugin.name"], "pgoutput");
    assert.equal(config["snapshot.mode"], "initial");
    assert.equal(config["value.converter"], "org.apache.kafka.connect.json.JsonConverter");
    assert.equal(config["value.converter.schemas.enable"], "false");
    assert.equal(config["key.converter.schemas.enable"], "false");
  });

  it("passes a config-provider reference through as the password, never a resolved secret", () => {
    assert.equal(config["database.password"], "${secretsmanager:shop-db:password}");
    assert.equal(config["database.sslmode"], "disable");
    assert.equal(config["database.sslrootcert"], undefined);
  });

  it("sets TLS verification when asked", () => {
    const tls = debeziumConnectorConfig("p", "shop", [], {
      ...connection,
      sslmode: "verify-full",
      sslRootCert: "/etc/ssl/rds.pem",
    }).config;
    assert.equal(tls["database.sslmode"], "verify-full");
    assert.equal(tls["database.sslrootcert"], "/etc/ssl/rds.pem");
  });

  it("keeps slot names within PostgreSQL's 63 bytes, distinct for distinct long names", () => {
    const a = cdcSlotName("p".repeat(70), "a");
    const b = cdcSlotName("p".repeat(70), "b");
    assert.ok(a.length <= 63 && b.length <= 63);
    assert.notEqual(a, b);
    assert.match(a, /^[a-z0-9_]+$/);
  });
});
