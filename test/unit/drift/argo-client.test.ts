import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  submitWorkflow,
  workflowsWithLabel,
  type ArgoTarget,
} from "../../../shared/drift/argo-client.js";
import { isStrataError } from "../../../shared/errors.js";
import { ArgoStandIn } from "../../support/argo-stand-in.js";

const TEMPLATE = "retrain";
const PARAMS = ["model", "features"];

describe("Argo client against a stand-in checking Argo's published API schema", () => {
  let argo: ArgoStandIn;
  let target: ArgoTarget;

  before(async () => {
    argo = await ArgoStandIn.start({
      namespace: "ml",
      token: "s3cret",
      templates: { [TEMPLATE]: PARAMS },
    });
    target = { url: argo.url, namespace: "ml", token: "s3cret" };
  });
  after(() => argo.stop());

  it("submits from a WorkflowTemplate with parameters and labels, and finds it by label", async () => {
    const name = await submitWorkflow(target, {
      template: TEMPLATE,
      parameters: { model: "churn", features: "v@1:x,v@1:y" },
      labels: { "strata.io/drift-claim": "abc123" },
    });
    assert.deepEqual(argo.violations, []);
    assert.equal(argo.submissions.length, 1);
    assert.equal(argo.submissions[0]!.name, name);
    assert.deepEqual(argo.submissions[0]!.parameters, { model: "churn", features: "v@1:x,v@1:y" });
    assert.deepEqual(await workflowsWithLabel(target, "strata.io/drift-claim", "abc123"), [name]);
    assert.deepEqual(await workflowsWithLabel(target, "strata.io/drift-claim", "other"), []);
    assert.deepEqual(argo.violations, []);
  });

  it("the stand-in refuses what Argo's schema refuses (so the test above can fail)", async () => {
    const response = await fetch(`${argo.url}/api/v1/workflows/ml/submit`, {
      method: "POST",
      headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
      body: JSON.stringify({
        resourceKind: "WorkflowTemplate",
        resourceName: TEMPLATE,
        submitOptions: { parameters: { model: "churn" }, label: "x=y" },
      }),
    });
    assert.equal(response.status, 400);
    assert.match(argo.violations.join("\n"), /submitOptions.parameters is not an array/);
    assert.match(argo.violations.join("\n"), /submitOptions.label is not a field/);
  });

  it("a wrong token is STRATA_E_ARGO_REJECTED, a server error STRATA_E_ARGO_UNAVAILABLE", async () => {
    const submission = {
      template: TEMPLATE,
      parameters: { model: "m", features: "f" },
      labels: {},
    };
    await assert.rejects(submitWorkflow({ ...target, token: "wrong" }, submission), (e) =>
      isStrataError(e, "STRATA_E_ARGO_REJECTED"),
    );
    argo.failNext = { status: 500, count: 1 };
    await assert.rejects(submitWorkflow(target, submission), (e) =>
      isStrataError(e, "STRATA_E_ARGO_UNAVAILABLE"),
    );
    await assert.rejects(
      submitWorkflow({ ...target, url: "http://127.0.0.1:1" }, submission),
      (e) => isStrataError(e, "STRATA_E_ARGO_UNAVAILABLE"),
    );
  });
});
