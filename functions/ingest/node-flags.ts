/**
 * Node flags the regional consumer runs with: the container command (infra/region-stack.ts),
 * `npm run ingest`, and the `ingest` benchmark, which runs the consumer as deployed.
 *
 * A 64 MB young-generation semi-space (V8's default is 16 MB): the consumer holds a fetched
 * batch and the rows in flight to Redis while it allocates the next chunk, so with the default
 * size its minor collections copied many objects that were about to die anyway. The larger
 * size lowers the consumer's CPU per row, for up to 96 MB more heap (two semi-spaces of 64 MB
 * instead of 16).
 */
export const INGEST_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];
