// The aggregation parity test's feature repo, as a module for the processes it spawns
// (STRATA_REPO). Project from STRATA_TEST_PROJECT.
import { parityRepo } from "./parity-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default parityRepo(project);
