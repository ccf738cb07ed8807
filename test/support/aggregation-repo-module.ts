// The aggregation test repo as a feature repo module, for ingest processes a test spawns
// (STRATA_REPO): the project comes from STRATA_TEST_PROJECT, as the test's own registry's.
import { aggregationTestRepo } from "./aggregation-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default aggregationTestRepo(project);
