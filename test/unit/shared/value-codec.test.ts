import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { jsonValue } from "../../../functions/serve/feast-response.js";
import {
  codecFor,
  decodeValue,
  encodeValue,
  isValueOf,
  SCALAR_TYPES,
  type FeatureType,
  type ScalarType,
} from "../../../shared/registry/index.js";
import { textDecodesToValue } from "../../../shared/registry/value-codec.js";

const scalar: Record<ScalarType, fc.Arbitrary<unknown>> = {
  int32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  int64: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  // Values a float32 holds: any other double is stored rounded to one (tested below).
  float32: fc.float(),
  float64: fc.double(),
  string: fc.string({ unit: "binary" }),
  bytes: fc.uint8Array({ maxLength: 40 }),
  bool: fc.boolean(),
  unix_timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
};

/** What decoding gives back: the same value, with safe bigints as numbers and bytes as a Buffer. */
function normalise(value: unknown): unknown {
  if (typeof value === "bigint" && Number.isSafeInteger(Number(value))) return Number(value);
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalise);
  if (Object.is(value, -0)) return 0;
  return value;
}

/** Every feature type (each scalar and its list), with values of it or null. */
const FEATURE_TYPES: [FeatureType, fc.Arbitrary<unknown>][] = SCALAR_TYPES.flatMap((type) => [
  [type, fc.option(scalar[type], { nil: null })],
  [`${type}[]`, fc.option(fc.array(scalar[type], { maxLength: 6 }), { nil: null })],
]);

describe("value codec", () => {
  for (const [featureType, values] of FEATURE_TYPES) {
    it(`round-trips ${featureType}, and null`, () => {
      fc.assert(
        fc.property(values, (value) => {
          assert.ok(isValueOf(featureType, value));
          const encoded = encodeValue(featureType, value);
          assert.deepEqual(normalise(decodeValue(featureType, encoded)), normalise(value));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("stores a float32 value as a float32 holds it, as Feast does, so both serve the same number", () => {
    assert.equal(encodeValue("float32", 0.1), "0.10000000149011612");
    assert.equal(encodeValue("float32[]", [0.1, 2, -0.5]), "[0.10000000149011612,2,-0.5]");
    assert.equal(encodeValue("float64", 0.1), "0.1");
    fc.assert(
      fc.property(fc.double(), (value) => {
        const decoded = decodeValue("float32", encodeValue("float32", value));
        assert.deepEqual(normalise(decoded), normalise(Math.fround(value)));
      }),
    );
  });

  it("hands out a stored text as JSON only when it is the JSON the value would be written as", () => {
    for (const [featureType, values] of FEATURE_TYPES) {
      const codec = codecFor(featureType);
      fc.assert(
        fc.property(values, (value) => {
          const stored = codec.encode(value);
          const json = codec.json(stored);
          if (json !== undefined) assert.equal(json, jsonValue(codec.decode(stored)));
        }),
        { numRuns: 300 },
      );
    }
    // Numbers are passed through (what makes it worth having), and text that is not a JSON
    // number is never passed through, even where Number() would read it.
    assert.equal(codecFor("float64").json("0.1"), "0.1");
    assert.equal(codecFor("int64[]").json("[1,-2,3e5]"), "[1,-2,3e5]");
    for (const text of ["0x10", "+5", ".5", " 5", "NaN", "Infinity", "1.", "01"]) {
      assert.equal(codecFor("float64").json(text), undefined, text);
    }
    assert.equal(codecFor("float64[]").json("[1,NaN]"), undefined);
  });

  it("says its texts need no JSON escaping only for types whose texts never do", () => {
    for (const [featureType, values] of FEATURE_TYPES) {
      const codec = codecFor(featureType);
      if (!codec.plainText) continue;
      fc.assert(
        fc.property(values, (value) => {
          const text = codec.encode(value);
          assert.equal(JSON.stringify(text), `"${text}"`);
        }),
        { numRuns: 300 },
      );
    }
    const plain = FEATURE_TYPES.filter(([type]) => codecFor(type).plainText).map(([type]) => type);
    assert.deepEqual(
      FEATURE_TYPES.map(([type]) => type).filter((type) => !plain.includes(type)),
      ["string", "string[]", "bytes[]", "bool[]"],
    );
  });

  it("keeps null and the empty string apart", () => {
    assert.notEqual(encodeValue("string", ""), encodeValue("string", null));
    assert.equal(decodeValue("string", encodeValue("string", "")), "");
    assert.equal(decodeValue("string", encodeValue("string", null)), null);
    assert.deepEqual(decodeValue("bytes[]", encodeValue("bytes[]", [])), []);
  });

  it("is compact: numbers as their decimal text", () => {
    assert.equal(encodeValue("float64", 0.25), "0.25");
    assert.equal(encodeValue("int64", 1001), "1001");
    assert.equal(encodeValue("int64[]", [1, 2, 3]), "[1,2,3]");
    assert.equal(encodeValue("bool", true), "1");
  });

  it("accepts a stored text exactly when it decodes to a value of the type", () => {
    // Texts around the number checks' edges: signs, dots, exponents, digit counts, names.
    const numberLike = fc
      .array(
        fc.oneof(
          fc.constantFrom("-", "+", ".", "e", "e400", "0", " ", "x", "NaN", "Infinity", "1."),
          fc.stringMatching(/^[0-9]{1,21}$/),
        ),
        { maxLength: 5 },
      )
      .map((pieces) => pieces.join(""));
    for (const [type, values] of FEATURE_TYPES) {
      const codec = codecFor(type);
      const text = fc.oneof(
        numberLike,
        fc.string({ unit: "binary", maxLength: 12 }),
        values.map((value) => codec.encode(value)),
      );
      fc.assert(
        fc.property(text, (t) => {
          assert.equal(codec.acceptsText(t), textDecodesToValue(codec, t), `${type} ${t}`);
        }),
        { numRuns: 3_000 },
      );
    }
  });

  it("tells values of the wrong type", () => {
    assert.equal(isValueOf("int32", 1.5), false);
    assert.equal(isValueOf("int32", 2 ** 31), false);
    assert.equal(isValueOf("int64", "12"), false);
    assert.equal(isValueOf("string", 12), false);
    assert.equal(isValueOf("float64[]", [1, null]), false);
    assert.equal(isValueOf("bytes", "aGk="), false);
    assert.equal(isValueOf("bool[]", [true, 0]), false);
  });
});
