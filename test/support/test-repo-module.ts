// The test repo as a feature repo module, for processes a test spawns (STRATA_REPO): the
// project comes from STRATA_TEST_PROJECT so that it matches the test's own registry.
import { testRepo } from "./store.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default testRepo(project);
