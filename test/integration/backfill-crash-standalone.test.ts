// The backfill coordinator SIGKILLed at each stage, then resumed or aborted (standalone).
import { backfillCrashSuite } from "../support/backfill-crash-suite.js";

backfillCrashSuite("standalone");
