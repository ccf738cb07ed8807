// The real serving process under input built to break it: 10,000-deep JSON where names, keys
// and values go, requests Node's HTTP parser refuses, and cross-site-shaped pushes with auth
// off. Every answer must be a JSON error with its code, every 5xx logged, and the server must
// keep serving.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { changelogTopic, deadLetterTopic } from "../../shared/changelog/topics.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { kafkaClient } from "../support/servers.js";
import { uniqueProject } from "../support/store.js";

const DEPTH = 10_000;
const deepArray = "[".repeat(DEPTH) + "]".repeat(DEPTH);
const deepObject = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH);

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

describe("the serving process under hostile input (STRATA_AUTH=off, pushes on)", () => {
  const project = uniqueProject("hostile");
  let serve: ServeProcess;
  const answered5xx: string[] = [];

  before(async () => {
    serve = await startServeProcess({
      project,
      topology: "standalone",
      region: "hostile",
      env: { STRATA_AUTH: "off" },
    });
  });
  after(async () => {
    await serve.stop();
    const admin = kafkaClient("strata-test-hostile").admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [changelogTopic(project), deadLetterTopic(project)] })
      .catch(() => undefined);
    await admin.disconnect();
  });

  const send = async (
    path: string,
    body: string | Blob,
    contentType: string | null = "application/json",
  ): Promise<Answer> => {
    const response = await fetch(new URL(path, serve.url), {
      method: "POST",
      headers: contentType === null ? {} : { "content-type": contentType },
      body,
    });
    const answer = {
      status: response.status,
      contentType: response.headers.get("content-type"),
      text: await response.text(),
    };
    if (answer.status >= 500) answered5xx.push(`${path}: ${answer.text}`);
    return answer;
  };
  const codeOf = (answer: Answer) =>
    (JSON.parse(answer.text) as { error: { code: string } }).error.code;
  const assertServing = async () => {
    const answer = await fetch(new URL("/get-online-features", serve.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ features: ["stats:rate"], entities: { driver_id: [1] } }),
    });
    assert.equal(answer.status, 200, "the server no longer serves");
  };
  const logLines = () =>
    serve
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  for (const [shape, deep] of [
    ["arrays", deepArray],
    ["objects", deepObject],
  ] as const) {
    const placements: [string, string, string][] = [
      [
        "a feature name",
        "/get-online-features",
        `{"features": [${deep}], "entities": {"driver_id": [1]}}`,
      ],
      [
        "a feature service name",
        "/get-online-features",
        `{"feature_service": ${deep}, "entities": {"driver_id": [1]}}`,
      ],
      [
        "an entity key",
        "/get-online-features",
        `{"features": ["stats:rate"], "entities": {"driver_id": [${deep}]}}`,
      ],
      [
        "a push value",
        "/push",
        `{"push_source_name": "stats@1", "df": {"driver_id": [1], "rate": [${deep}], "trips": [1], "label": ["x"], "event_timestamp": [1700000000000]}}`,
      ],
      [
        "a pushed join key",
        "/push",
        `{"push_source_name": "stats@1", "df": {"driver_id": [${deep}], "rate": [0.5], "trips": [1], "label": ["x"], "event_timestamp": [1700000000000]}}`,
      ],
    ];
    for (const [where, path, body] of placements) {
      it(`answers ${DEPTH} nested ${shape} as ${where} with a bounded 4xx`, async () => {
        const answer = await send(path, body);
        assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status} ${answer.text}`);
        assert.equal(answer.contentType, "application/json");
        assert.match(codeOf(answer), /^STRATA_E_/);
        assert.ok(answer.text.length < 2_000, `an unbounded body: ${answer.text.length} bytes`);
        await assertServing();
      });
    }
  }

  it("logged every 5xx it answered (and answered none to the input above)", () => {
    const errors = logLines().filter((line) => line.level === "error");
    assert.ok(errors.length >= answered5xx.length, "a 5xx without a log line");
    assert.deepEqual(answered5xx, []);
  });

  /** One raw HTTP exchange: what the client wrote, everything the server answered until it closed. */
  const raw = (request: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const url = new URL(serve.url);
      const socket = net.connect(Number(url.port), url.hostname);
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("error", reject);
      socket.on("close", () => resolve(received));
      socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
      socket.write(request);
    });

  const parserCases: [string, string, number, string][] = [
    [
      "an unknown method",
      "BREW /get-online-features HTTP/1.1\r\nHost: x\r\n\r\n",
      400,
      "STRATA_E_BAD_HTTP",
    ],
    [
      "a bad chunk size (bad framing)",
      "POST /get-online-features HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
      400,
      "STRATA_E_BAD_HTTP",
    ],
    [
      "Content-Length with Transfer-Encoding (bad framing)",
      "POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
      "STRATA_E_BAD_HTTP",
    ],
    ["no HTTP at all", "hello there\r\n\r\n", 400, "STRATA_E_BAD_HTTP"],
    [
      "headers larger than the limit",
      `POST /get-online-features HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(20_000)}\r\n\r\n`,
      431,
      "STRATA_E_HEADERS_TOO_LARGE",
    ],
  ];
  for (const [what, request, status, code] of parserCases) {
    it(`answers ${what} with a JSON ${status} ${code}, then closes the connection`, async () => {
      const response = await raw(request);
      const [head, body] = [
        response.slice(0, response.indexOf("\r\n\r\n")),
        response.slice(response.indexOf("\r\n\r\n") + 4),
      ];
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), response.slice(0, 200));
      assert.match(head, /^content-type: application\/json$/im);
      assert.match(head, /^connection: close$/im);
      const error = (JSON.parse(body) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code);
      assert.ok(error.message.length > 0);
      await assertServing();
    });
  }

  const endOffset = async () => {
    const admin = kafkaClient("strata-test-hostile-offsets").admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(changelogTopic(project));
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it("refuses a push a web page could send cross-site (form, text, no type) with 415, and writes nothing", async () => {
    const push = JSON.stringify({
      push_source_name: "stats@1",
      df: {
        driver_id: [7],
        rate: [0.5],
        trips: [1],
        label: ["x"],
        event_timestamp: [Date.now()],
      },
      wait: "acked",
    });
    const before = await endOffset();
    for (const contentType of [
      "application/x-www-form-urlencoded",
      "text/plain;charset=UTF-8",
      "multipart/form-data; boundary=x",
    ]) {
      const answer = await send("/push", push, contentType);
      assert.equal(answer.status, 415, `${contentType}: ${answer.text}`);
      assert.equal(codeOf(answer), "STRATA_E_UNSUPPORTED_MEDIA_TYPE");
    }
    // A Blob without a type: fetch sends no Content-Type at all, as a no-cors page can.
    const untyped = await send("/push", new Blob([push]), null);
    assert.equal(untyped.status, 415, untyped.text);
    assert.equal(await endOffset(), before, "a refused push reached the changelog");

    const accepted = await send("/push", push, "application/json");
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(await endOffset(), before + 1);
  });

  it("still reads Feast's curl -d request (a form content type) on /get-online-features", async () => {
    const answer = await send(
      "/get-online-features",
      JSON.stringify({ features: ["stats:rate"], entities: { driver_id: [1] } }),
      "application/x-www-form-urlencoded",
    );
    assert.equal(answer.status, 200, answer.text);
  });
});
