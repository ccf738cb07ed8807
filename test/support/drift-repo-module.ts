// The drift test repo as a feature repo module, for serving processes a test spawns
// (STRATA_REPO), of the project STRATA_TEST_PROJECT names.
import { driftRepo } from "./drift-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default driftRepo(project);
