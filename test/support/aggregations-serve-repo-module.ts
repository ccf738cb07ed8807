// The aggregation serving tests' repo as a feature repo module, for the ingest process a test
// spawns (STRATA_REPO): the project comes from STRATA_TEST_PROJECT, as the test's own registry's.
import { aggregationsServeRepo } from "./aggregations-serve-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default aggregationsServeRepo(project);
