// Aggregates pushed through /push, applied by the aggregation consumer and served through
// /get-online-features with plain features (standalone Redis).
import { aggregationsServeSuite } from "../support/aggregations-serve-suite.js";

aggregationsServeSuite("standalone");
