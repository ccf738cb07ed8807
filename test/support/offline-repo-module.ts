// The offline store test's feature repo, as a module for the processes it spawns (STRATA_REPO):
// every feature type, and a view with a composite join key. Project from STRATA_TEST_PROJECT.
import { offlineTestRepo } from "./offline-repo.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

export default offlineTestRepo(project);
