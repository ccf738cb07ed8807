// The backfill coordinator SIGKILLed at each stage, then resumed or aborted (cluster).
import { backfillCrashSuite } from "../support/backfill-crash-suite.js";

backfillCrashSuite("cluster");
