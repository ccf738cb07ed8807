// Online/offline parity of rolling aggregations on Redis Cluster: test/support/aggregations-parity-suite.ts.
import { parityTests } from "../support/aggregations-parity-suite.js";

parityTests("cluster");
