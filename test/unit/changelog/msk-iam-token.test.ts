import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mskIamTokenProvider, type MskAuthToken } from "../../../shared/changelog/msk-iam-token.js";

describe("the MSK IAM token provider (SASL OAUTHBEARER)", () => {
  it("signs for the configured region and shares one token until it nears expiry", async () => {
    let clock = 1_000_000;
    const regions: string[] = [];
    const provider = mskIamTokenProvider({
      region: "eu-west-1",
      refreshBeforeMs: 60_000,
      now: () => clock,
      sign: ({ region }) => {
        regions.push(region);
        return Promise.resolve({ token: `t${regions.length}`, expiryTime: clock + 900_000 });
      },
    });
    assert.deepEqual(await provider(), { value: "t1" });
    clock += 839_000; // 61 s of the token's life left: still shared
    assert.deepEqual(await provider(), { value: "t1" });
    clock += 2_000; // 59 s left: re-signed before a handshake could outlive it
    assert.deepEqual(await provider(), { value: "t2" });
    assert.deepEqual(regions, ["eu-west-1", "eu-west-1"]);
  });

  it("signs once for concurrent connections, and retries after a failed signing", async () => {
    let calls = 0;
    let release: (token: MskAuthToken) => void = () => {};
    const provider = mskIamTokenProvider({
      region: "us-east-1",
      sign: () => {
        calls++;
        if (calls === 1) return Promise.reject(new Error("no credentials yet"));
        return new Promise((resolve) => (release = resolve));
      },
    });
    await assert.rejects(provider(), /no credentials yet/);
    const both = Promise.all([provider(), provider()]);
    release({ token: "shared", expiryTime: Date.now() + 900_000 });
    assert.deepEqual(await both, [{ value: "shared" }, { value: "shared" }]);
    assert.equal(calls, 2);
  });

  describe("with the AWS signer and static credentials from the environment", () => {
    const saved: Record<string, string | undefined> = {};
    const env = {
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
    };
    before(() => {
      for (const [name, value] of Object.entries(env)) {
        saved[name] = process.env[name];
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    after(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it("yields a base64url presigned kafka-cluster:Connect URL for the region", async () => {
      const started = Date.now();
      const { value } = await mskIamTokenProvider({ region: "eu-central-1" })();
      assert.match(value, /^[A-Za-z0-9_-]+$/, "base64url without padding");
      const url = new URL(Buffer.from(value, "base64url").toString("utf8"));
      assert.equal(url.protocol, "https:");
      assert.equal(url.host, "kafka.eu-central-1.amazonaws.com");
      assert.equal(url.searchParams.get("Action"), "kafka-cluster:Connect");
      assert.equal(url.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
      assert.match(
        url.searchParams.get("X-Amz-Credential") ?? "",
        /^AKIDEXAMPLE\/\d{8}\/eu-central-1\/kafka-cluster\/aws4_request$/,
      );
      assert.equal(url.searchParams.get("X-Amz-Expires"), "900");
      assert.match(url.searchParams.get("X-Amz-Signature") ?? "", /^[0-9a-f]{64}$/);
      const signedAt = Date.parse(
        (url.searchParams.get("X-Amz-Date") ?? "").replace(
          /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
          "$1-$2-$3T$4:$5:$6Z",
        ),
      );
      assert.ok(Math.abs(signedAt - started) < 5_000, "signed now");
    });
  });
});
