import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isStrataError } from "../../../shared/errors.js";
import {
  decodeEntityKey,
  encodeEntityKey,
  entityRedisKey,
  plainEntityKeyPattern,
} from "../../../shared/key-codec.js";
import type { JoinKey } from "../../../shared/registry/index.js";

// Any UTF-16 code units, lone surrogates included: the strings a JSON body can carry.
const anyString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 12,
});
const trickyString = fc.oneof(
  anyString,
  fc.constantFrom(
    "",
    ":",
    "{",
    "}",
    "\\",
    "\\c",
    "s",
    "i1",
    "a:b",
    "{x}",
    "\uD800",
    "\uDC00",
    "\uFFFD",
    "é",
    "😀",
  ),
);
const intValue = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);

const keys: JoinKey[] = [
  { name: "tenant", type: "string" },
  { name: "id", type: "int64" },
  { name: "region", type: "string" },
];
const row = fc.record({ tenant: trickyString, id: intValue, region: trickyString });
const canonical = (v: unknown) =>
  typeof v === "bigint" && Number.isSafeInteger(Number(v)) ? Number(v) : v;
const sameRow = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  keys.every((k) => canonical(a[k.name]) === canonical(b[k.name]));

describe("entity key codec", () => {
  it("never maps two different entity keys to the same Redis key bytes", () => {
    fc.assert(
      fc.property(row, row, (a, b) => {
        const ea = Buffer.from(entityRedisKey("p", "e", encodeEntityKey(keys, a)));
        const eb = Buffer.from(entityRedisKey("p", "e", encodeEntityKey(keys, b)));
        assert.equal(ea.equals(eb), sameRow(a, b));
      }),
      { numRuns: 5_000 },
    );
  });

  it("round-trips any strings and integers", () => {
    fc.assert(
      fc.property(row, (r) => {
        assert.deepEqual(
          decodeEntityKey(encodeEntityKey(keys, r)).map(canonical),
          keys.map((k) => canonical((r as Record<string, unknown>)[k.name])),
        );
      }),
      { numRuns: 5_000 },
    );
  });

  it("keeps braces out of the encoding, so the hash tag always spans the whole entity", () => {
    fc.assert(
      fc.property(row, (r) => {
        const redisKey = entityRedisKey("p", "e", encodeEntityKey(keys, r));
        assert.equal(redisKey.indexOf("}"), redisKey.length - 1);
        assert.equal(redisKey.lastIndexOf("{"), 3);
      }),
    );
  });

  it("tells a string join key from an integer one with the same digits", () => {
    const s = encodeEntityKey([{ name: "k", type: "string" }], { k: "1001" });
    const i = encodeEntityKey([{ name: "k", type: "int64" }], { k: 1001 });
    assert.notEqual(s, i);
  });

  it("encodes one integer one way, as number or bigint", () => {
    const k: JoinKey[] = [{ name: "k", type: "int64" }];
    assert.equal(encodeEntityKey(k, { k: 42 }), encodeEntityKey(k, { k: 42n }));
    assert.equal(encodeEntityKey(k, { k: -0 }), encodeEntityKey(k, { k: 0 }));
  });

  it("names a missing join key", () => {
    assert.throws(
      () => encodeEntityKey(keys, { tenant: "t", region: "r" }),
      (e: unknown) => isStrataError(e, "STRATA_E_MISSING_JOIN_KEY") && e.message.includes('"id"'),
    );
  });

  describe("int64 join keys sent as decimal strings (as Feast clients send them)", () => {
    const k: JoinKey[] = [{ name: "k", type: "int64" }];
    const int64 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.constantFrom(0n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n),
    );

    it("encode exactly as the number (or bigint) of the same value", () => {
      fc.assert(
        fc.property(int64, (value) => {
          const fromString = encodeEntityKey(k, { k: value.toString() });
          assert.equal(fromString, encodeEntityKey(k, { k: value }));
          const asNumber = Number(value);
          if (Number.isSafeInteger(asNumber)) {
            assert.equal(fromString, encodeEntityKey(k, { k: asNumber }));
          }
          assert.equal(
            entityRedisKey("p", "driver", fromString),
            entityRedisKey("p", "driver", encodeEntityKey(k, { k: value })),
          );
        }),
        { numRuns: 5_000 },
      );
    });

    it('read "-0" as 0, as the number -0 is', () => {
      assert.equal(encodeEntityKey(k, { k: "-0" }), encodeEntityKey(k, { k: 0 }));
    });

    it("refuse any other string, with the join key's code", () => {
      const bad = fc.oneof(
        fc.string(),
        fc.bigInt({ min: 2n ** 63n, max: 2n ** 70n }).map(String),
        fc.bigInt({ min: -(2n ** 70n), max: -(2n ** 63n) - 1n }).map(String),
        fc.constantFrom("01", "-01", "00", "+1", " 1", "1 ", "1e3", "1.0", "0x10", "", "-", "１"),
      );
      fc.assert(
        fc.property(bad, (text) => {
          fc.pre(
            !/^-?(0|[1-9]\d*)$/.test(text) ||
              BigInt(text) >= 2n ** 63n ||
              BigInt(text) < -(2n ** 63n),
          );
          assert.throws(
            () => encodeEntityKey(k, { k: text }),
            (e: unknown) => isStrataError(e, "STRATA_E_ENTITY_KEY_TYPE"),
          );
        }),
        { numRuns: 2_000 },
      );
    });

    it("stay strings for string and int32 join keys", () => {
      assert.notEqual(
        encodeEntityKey([{ name: "k", type: "string" }], { k: "7" }),
        encodeEntityKey(k, { k: "7" }),
      );
      assert.throws(
        () => encodeEntityKey([{ name: "k", type: "int32" }], { k: "7" }),
        (e: unknown) => isStrataError(e, "STRATA_E_ENTITY_KEY_TYPE"),
      );
    });
  });

  for (const [what, value, type] of [
    ["a non-decimal string for an int64 key", "1001x", "int64"],
    ["a fraction for an int64 key", 1.5, "int64"],
    ["an int32 out of range", 2 ** 31, "int32"],
    ["a number for a string key", 7, "string"],
    ["an unsafe integer", 2 ** 60, "int64"],
  ] as const) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => encodeEntityKey([{ name: "k", type }], { k: value }),
        (e: unknown) =>
          isStrataError(e, "STRATA_E_ENTITY_KEY_TYPE") && e.message.includes(String(value)),
      );
    });
  }

  describe("plain key pattern", () => {
    const keyLists: JoinKey[][] = [
      keys,
      [{ name: "k", type: "int32" }],
      [{ name: "k", type: "int64" }],
      [{ name: "k", type: "string" }],
    ];
    /** Whether encodeEntityKey writes exactly `encoded` for the values decoding it gives. */
    const reencodes = (joinKeys: JoinKey[], encoded: string) => {
      try {
        const parts = decodeEntityKey(encoded);
        if (parts.length !== joinKeys.length) return false;
        const values = Object.fromEntries(joinKeys.map((k, i) => [k.name, parts[i]]));
        return encodeEntityKey(joinKeys, values) === encoded;
      } catch {
        return false;
      }
    };
    // Texts near the pattern's edges: part tags, digits, signs, escapes and separators.
    const keyLike = fc
      .array(
        fc.oneof(
          fc.constantFrom("i", "s", ":", "-", "0", "\\", "\\c", "{", "\uD800", "\uDC00", "😀"),
          fc.stringMatching(/^[0-9]{1,20}$/),
          trickyString,
        ),
        { maxLength: 8 },
      )
      .map((pieces) => pieces.join(""));

    it("matches only keys that decode and re-encode to themselves, with fitting types", () => {
      fc.assert(
        fc.property(fc.constantFrom(...keyLists), keyLike, (joinKeys, encoded) => {
          if (plainEntityKeyPattern(joinKeys).test(encoded)) {
            assert.ok(reencodes(joinKeys, encoded), encoded);
          }
        }),
        { numRuns: 20_000 },
      );
    });

    it("matches the keys of integers up to 18 digits and of strings with nothing to escape", () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }),
          fc.stringMatching(/^[a-z0-9 _.é-]{0,12}$/),
          fc.integer({ min: -999_999_999, max: 999_999_999 }),
          (id, text, small) => {
            const encoded = encodeEntityKey(keys, { tenant: text, id, region: text });
            assert.ok(plainEntityKeyPattern(keys).test(encoded), encoded);
            const int32: JoinKey[] = [{ name: "k", type: "int32" }];
            assert.ok(plainEntityKeyPattern(int32).test(encodeEntityKey(int32, { k: small })));
          },
        ),
      );
    });

    it("leaves non-canonical and out-of-range integers to the full check", () => {
      const int64: JoinKey[] = [{ name: "k", type: "int64" }];
      const int32: JoinKey[] = [{ name: "k", type: "int32" }];
      for (const encoded of ["i-0", "i01", "i", "i+1", "i1234567890123456789", "s1", "i1:i2"]) {
        assert.equal(plainEntityKeyPattern(int64).test(encoded), false, encoded);
      }
      assert.equal(plainEntityKeyPattern(int32).test("i1234567890"), false);
      assert.equal(plainEntityKeyPattern(int64).test("i123456789012345678"), true);
    });
  });

  it("refuses to decode what it did not encode", () => {
    assert.throws(
      () => decodeEntityKey("x12"),
      (e: unknown) => isStrataError(e, "STRATA_E_BAD_ENTITY_KEY"),
    );
    assert.throws(
      () => decodeEntityKey("sab\\"),
      (e: unknown) => isStrataError(e, "STRATA_E_BAD_ENTITY_KEY"),
    );
  });
});
