// Valid feature repos for property tests, drawn from small pools of names so that two of them
// share entities, views, majors, features and services and differ in every way a plan reports.
import fc from "fast-check";
import type {
  EntityDefinition,
  FeatureRepoDefinition,
  FeatureServiceDefinition,
  FeatureType,
  FeatureViewDefinition,
  JoinKeyType,
  PushSourceDefinition,
} from "../../../shared/registry/index.js";

const FEATURE_TYPES: FeatureType[] = ["int64", "string", "float64", "bool"];
const KEY_TYPES: JoinKeyType[] = ["int64", "string"];

const entityArb = (name: string): fc.Arbitrary<EntityDefinition> =>
  fc
    .record({ type: fc.constantFrom(...KEY_TYPES), second: fc.boolean() })
    .map(({ type, second }) => ({
      name,
      joinKeys: second
        ? { [`${name}_id`]: type, [`${name}_zone`]: "string" }
        : { [`${name}_id`]: type },
    }));

const viewArb = (
  name: string,
  major: number,
  entities: string[],
): fc.Arbitrary<FeatureViewDefinition> =>
  fc
    .record({
      minor: fc.integer({ min: 0, max: 1 }),
      entities: fc.subarray(entities, { minLength: 1 }),
      features: fc.shuffledSubarray(["f0", "f1", "f2"], { minLength: 1 }),
      types: fc.array(fc.constantFrom(...FEATURE_TYPES), { minLength: 3, maxLength: 3 }),
      maxAgeMs: fc.constantFrom(1_000, 2_000),
      criticality: fc.constantFrom(undefined, "critical" as const, "standard" as const),
    })
    .map((v) => ({
      name,
      version: `${major}.${v.minor}.0`,
      entities: v.entities,
      features: Object.fromEntries(v.features.map((f, i) => [f, v.types[i]!])),
      maxAgeMs: v.maxAgeMs,
      ...(v.criticality ? { criticality: v.criticality } : {}),
    }));

export function arbitraryRepo(): fc.Arbitrary<FeatureRepoDefinition> {
  return fc
    .subarray(["e0", "e1"], { minLength: 1 })
    .chain((names) =>
      fc.record({
        entities: fc.tuple(...names.map(entityArb)),
        views: fc.tuple(
          ...["v0", "v1"].map((view) =>
            fc
              .subarray([1, 2])
              .chain((majors) => fc.tuple(...majors.map((m) => viewArb(view, m, names)))),
          ),
        ),
      }),
    )
    .chain(({ entities, views }) => {
      const flat = views.flat();
      const refs = flat.flatMap((v) => {
        const major = v.version.split(".")[0];
        const latest = Math.max(
          ...flat.filter((w) => w.name === v.name).map((w) => Number(w.version.split(".")[0])),
        );
        const names = Object.keys(v.features);
        return [
          ...names.map((f) => `${v.name}@${major}:${f}`),
          ...(Number(major) === latest ? names.map((f) => `${v.name}:${f}`) : []),
        ];
      });
      const keys = flat.map((v) => `${v.name}@${v.version.split(".")[0]}`);
      const services: fc.Arbitrary<FeatureServiceDefinition[]> =
        refs.length === 0
          ? fc.constant([])
          : fc
              .subarray(["s0", "s1"])
              .chain((serviceNames) =>
                fc.tuple(
                  ...serviceNames.map((name) =>
                    fc
                      .shuffledSubarray(refs, { minLength: 1, maxLength: Math.min(3, refs.length) })
                      .map((features) => ({ name, features })),
                  ),
                ),
              );
      const pushSources: fc.Arbitrary<PushSourceDefinition[]> =
        keys.length === 0
          ? fc.constant([])
          : fc
              .option(fc.subarray(keys, { minLength: 1 }), { nil: undefined })
              .map((views) => (views ? [{ name: "p0", views }] : []));
      return fc.record({ services, pushSources }).map((rest): FeatureRepoDefinition => ({
        project: "props",
        entities,
        views: flat,
        services: rest.services,
        pushSources: rest.pushSources,
      }));
    });
}
