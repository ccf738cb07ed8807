// A stand-in for the Argo Workflows server (Argo needs Kubernetes, which this machine does not
// have): it answers the two calls Strata makes, and checks every request against Argo's
// published OpenAPI spec (an extract of api/openapi-spec/swagger.json in
// test/unit/drift/fixtures/argo-swagger-extract.json): path, method, bearer token, query
// parameters and body fields and types, plus what Argo's server checks beyond the schema
// (resource kind, `name=value` parameters, `k=v,...` labels with valid values, the template's
// declared parameters). Anything else is recorded as a violation and refused.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

interface Schema {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

interface Swagger {
  definitions: Record<string, Schema>;
  paths: Record<
    string,
    Record<string, { parameters: { name: string; in: string; schema?: Schema }[] }>
  >;
}

const swagger = JSON.parse(
  readFileSync(
    new URL("../unit/drift/fixtures/argo-swagger-extract.json", import.meta.url),
    "utf8",
  ),
) as Swagger;

/** Kinds Argo's SubmitWorkflow accepts for a WorkflowTemplate (server/workflow/workflow_server.go). */
const TEMPLATE_KINDS = ["WorkflowTemplate", "workflowtemplate", "workflowtemplates", "wftmpl"];
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export interface StoredWorkflow {
  name: string;
  template: string;
  labels: Record<string, string>;
  parameters: Record<string, string>;
}

export class ArgoStandIn {
  readonly submissions: StoredWorkflow[] = [];
  readonly violations: string[] = [];
  readonly requests: { method: string; path: string }[] = [];
  /** Makes the next n submissions fail with this HTTP status (a server error, a refusal). */
  failNext: { status: number; count: number } | undefined;
  private sequence = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly namespace: string,
    readonly token: string,
    /** Template name -> its declared parameter names. */
    readonly templates: Record<string, string[]>,
  ) {}

  static async start(options: {
    namespace: string;
    token: string;
    templates: Record<string, string[]>;
  }): Promise<ArgoStandIn> {
    const holder: { standIn?: ArgoStandIn } = {};
    const server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const { status, json } = holder.standIn!.handle(req, body);
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    holder.standIn = new ArgoStandIn(
      server,
      url,
      options.namespace,
      options.token,
      options.templates,
    );
    return holder.standIn;
  }

  /** A workflow as if submitted earlier (e.g. by a run that crashed before recording it). */
  seed(workflow: Omit<StoredWorkflow, "name">): string {
    const name = `${workflow.template}-seeded${++this.sequence}`;
    this.submissions.push({ ...workflow, name });
    return name;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, body: string): { status: number; json: unknown } {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ method: req.method ?? "", path: url.pathname });
    const refuse = (status: number, message: string) => {
      this.violations.push(`${req.method} ${url.pathname}: ${message}`);
      return { status, json: { code: status === 401 ? 16 : 3, message } };
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return refuse(
        401,
        `Authorization is ${JSON.stringify(req.headers.authorization)}, not the bearer token`,
      );
    }
    const submit = /^\/api\/v1\/workflows\/([^/]+)\/submit$/.exec(url.pathname);
    const list = /^\/api\/v1\/workflows\/([^/]+)$/.exec(url.pathname);
    if (submit && req.method === "POST")
      return this.submit(decodeURIComponent(submit[1]!), req, body, refuse);
    if (list && req.method === "GET") return this.list(decodeURIComponent(list[1]!), url, refuse);
    return refuse(404, "not a call of the submit/list API");
  }

  private submit(
    namespace: string,
    req: IncomingMessage,
    body: string,
    refuse: (status: number, message: string) => { status: number; json: unknown },
  ): { status: number; json: unknown } {
    if (!req.headers["content-type"]?.startsWith("application/json"))
      return refuse(415, "content-type is not application/json");
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return refuse(400, "body is not JSON");
    }
    const op = swagger.paths["/api/v1/workflows/{namespace}/submit"]!.post!;
    const bodySchema = op.parameters.find((p) => p.in === "body")!.schema!;
    const problems = validate(request, bodySchema, "body");
    if (problems.length > 0) return refuse(400, problems.join("; "));
    if (request.namespace !== undefined && request.namespace !== namespace)
      problems.push("body.namespace differs from the path's");
    if (namespace !== this.namespace)
      problems.push(`namespace ${namespace} is not ${this.namespace}`);
    if (!TEMPLATE_KINDS.includes(request.resourceKind as string))
      problems.push(`resourceKind ${String(request.resourceKind)} is not a WorkflowTemplate kind`);
    const template = request.resourceName as string;
    const declared = this.templates[template];
    if (!declared) problems.push(`no WorkflowTemplate ${template}`);
    const options = (request.submitOptions ?? {}) as { parameters?: string[]; labels?: string };
    const parameters: Record<string, string> = {};
    for (const p of options.parameters ?? []) {
      const at = p.indexOf("=");
      if (at <= 0) problems.push(`parameter ${p} is not name=value`);
      else parameters[p.slice(0, at)] = p.slice(at + 1);
    }
    if (declared) {
      for (const name of declared)
        if (!(name in parameters)) problems.push(`parameter ${name} is missing`);
      for (const name of Object.keys(parameters))
        if (!declared.includes(name))
          problems.push(`parameter ${name} is not declared by ${template}`);
    }
    const labels: Record<string, string> = {};
    for (const pair of (options.labels ?? "").split(",").filter((l) => l !== "")) {
      const [key, value, extra] = pair.split("=");
      if (
        key === undefined ||
        value === undefined ||
        extra !== undefined ||
        !LABEL_KEY.test(key) ||
        !LABEL_VALUE.test(value)
      ) {
        problems.push(`label ${pair} is not a valid key=value label`);
      } else labels[key] = value;
    }
    if (problems.length > 0) return refuse(400, problems.join("; "));
    if (this.failNext && this.failNext.count > 0) {
      this.failNext.count--;
      return { status: this.failNext.status, json: { code: 13, message: "injected failure" } };
    }
    const name = `${template}-${(++this.sequence).toString(36).padStart(5, "0")}`;
    this.submissions.push({ name, template, labels, parameters });
    return {
      status: 200,
      json: {
        metadata: { name, namespace, labels },
        spec: {
          workflowTemplateRef: { name: template },
          arguments: {
            parameters: Object.entries(parameters).map(([n, value]) => ({ name: n, value })),
          },
        },
      },
    };
  }

  private list(
    namespace: string,
    url: URL,
    refuse: (status: number, message: string) => { status: number; json: unknown },
  ): { status: number; json: unknown } {
    const allowed = swagger.paths["/api/v1/workflows/{namespace}"]!.get!.parameters.filter(
      (p) => p.in === "query",
    ).map((p) => p.name);
    for (const name of url.searchParams.keys()) {
      if (!allowed.includes(name)) return refuse(400, `query parameter ${name} is not in the API`);
    }
    if (namespace !== this.namespace)
      return refuse(400, `namespace ${namespace} is not ${this.namespace}`);
    const selector = url.searchParams.get("listOptions.labelSelector") ?? "";
    const wanted = selector
      .split(",")
      .filter((s) => s !== "")
      .map((s) => s.split("=") as [string, string]);
    const items = this.submissions
      .filter((w) => wanted.every(([k, v]) => w.labels[k] === v))
      .map((w) => ({ metadata: { name: w.name, namespace, labels: w.labels } }));
    // Argo's WorkflowList answers "items": null when nothing matches.
    return { status: 200, json: { metadata: {}, items: items.length > 0 ? items : null } };
  }
}

function validate(value: unknown, schema: Schema, at: string): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/definitions/", "");
    const definition = swagger.definitions[name];
    // References outside the extract (ownerReference) are only checked to be objects.
    if (!definition)
      return typeof value === "object" && value !== null ? [] : [`${at} is not an object`];
    return validate(value, definition, at);
  }
  switch (schema.type) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return [`${at} is not an object`];
      const problems: string[] = [];
      for (const [key, v] of Object.entries(value)) {
        const property = schema.properties?.[key];
        if (!property) problems.push(`${at}.${key} is not a field of the schema`);
        else problems.push(...validate(v, property, `${at}.${key}`));
      }
      return problems;
    }
    case "string":
      return typeof value === "string" ? [] : [`${at} is not a string`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at} is not a boolean`];
    case "integer":
      return Number.isInteger(value) ? [] : [`${at} is not an integer`];
    case "array":
      return Array.isArray(value)
        ? value.flatMap((v, i) => validate(v, schema.items ?? {}, `${at}[${i}]`))
        : [`${at} is not an array`];
    default:
      return [];
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}
