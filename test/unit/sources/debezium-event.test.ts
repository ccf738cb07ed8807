import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStrataError } from "../../../shared/errors.js";
import { parseDebeziumEvent } from "../../../shared/sources/debezium-event.js";

// As Debezium 3.6 wrote them on the local stack (JsonConverter, schemas off), trimmed.
const update =
  '{"before":null,"after":{"id":1,"amount":"13.50","label":"a"},"source":{"version":"3.6.1.Final","connector":"postgresql","name":"strata.p.cdc","ts_ms":1796568572512,"snapshot":"false","db":"strata","sequence":"[null,\\"26367784\\"]","schema":"public","table":"try_cards","txId":730,"lsn":26367784,"xmin":null},"transaction":null,"op":"u","ts_ms":1796568572965}';
const read =
  '{"before":null,"after":{"id":1,"amount":"12.50"},"source":{"ts_ms":1796568569167,"snapshot":"last","db":"strata","schema":"public","table":"try_cards","txId":729,"lsn":26367744},"op":"r","ts_ms":1796568569533}';
const remove =
  '{"before":{"id":2,"amount":null,"label":null},"after":null,"source":{"ts_ms":1796568572515,"snapshot":"false","db":"strata","schema":"public","table":"try_cards","lsn":26368176},"op":"d"}';

function rejects(text: string, named: string) {
  assert.throws(
    () => parseDebeziumEvent(text),
    (e: unknown) => isStrataError(e, "STRATA_E_CDC_BAD_EVENT") && e.message.includes(named),
  );
}

describe("parsing a Debezium change event", () => {
  it("reads an update: op, rows, commit time, LSN and the table", () => {
    const event = parseDebeziumEvent(Buffer.from(update));
    assert.equal(event.op, "u");
    assert.deepEqual(event.after, { id: 1, amount: "13.50", label: "a" });
    assert.equal(event.before, null);
    assert.equal(event.source.tsMs, 1796568572512);
    assert.equal(event.source.lsn, 26367784n);
    assert.equal(event.source.snapshot, false);
    assert.equal(event.source.schema, "public");
    assert.equal(event.source.table, "try_cards");
    assert.equal(event.source.txId, 730);
  });

  it("marks snapshot reads, whatever Debezium's marker", () => {
    const event = parseDebeziumEvent(read);
    assert.equal(event.op, "r");
    assert.equal(event.source.snapshot, true);
    assert.equal(event.source.snapshotMarker, "last");
  });

  it("reads a delete's key from its before row", () => {
    const event = parseDebeziumEvent(remove);
    assert.equal(event.op, "d");
    assert.equal(event.after, null);
    assert.equal(event.before!.id, 2);
  });

  it("keeps int8 values and LSNs past 2^53 exact", () => {
    const big = update
      .replace('"id":1', '"id":9007199254740993')
      .replace('"lsn":26367784', '"lsn":18446744073709551615');
    const event = parseDebeziumEvent(big);
    assert.equal(event.after!.id, 9007199254740993n);
    assert.equal(event.source.lsn, 18446744073709551615n);
  });

  it("accepts the enveloped form a converter with schemas writes", () => {
    const event = parseDebeziumEvent(`{"schema":{},"payload":${update}}`);
    assert.equal(event.op, "u");
  });

  it("names what is wrong with a bad event", () => {
    rejects("not json", "not JSON");
    rejects("[1]", "not a JSON object");
    rejects(update.replace('"op":"u"', '"op":"x"'), '"op"');
    rejects(update.replace('"lsn":26367784', '"lsn":-1'), "source.lsn");
    rejects(update.replace('"ts_ms":1796568572512', '"ts_ms":"soon"'), "source.ts_ms");
    rejects(
      update.replace('"after":{"id":1,"amount":"13.50","label":"a"}', '"after":null'),
      '"after"',
    );
    rejects(
      remove.replace('"before":{"id":2,"amount":null,"label":null}', '"before":null'),
      "replica identity",
    );
  });
});
