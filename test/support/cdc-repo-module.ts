// The CDC test repo as a feature repo module for processes a test spawns (STRATA_REPO): the
// project and table come from STRATA_TEST_PROJECT and STRATA_TEST_CDC_TABLE.
import { cdcTestRepo } from "./cdc-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
const table = process.env.STRATA_TEST_CDC_TABLE;
if (!project || !table)
  throw new Error("STRATA_TEST_PROJECT and STRATA_TEST_CDC_TABLE must be set");

export default cdcTestRepo(project, table);
