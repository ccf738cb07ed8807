import { StackError } from "./stack-error.js";

/** One proxy as toxiproxy's API describes it. */
export interface ToxiProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

/** A toxic (https://github.com/Shopify/toxiproxy#toxics), e.g. `timeout` or `limit_data`. */
export interface Toxic {
  name: string;
  type: string;
  stream: "upstream" | "downstream";
  toxicity?: number;
  attributes: Record<string, number>;
}

const REQUEST_TIMEOUT_MS = 5_000;

/** A small client of toxiproxy's HTTP API (v2.5), over the global fetch; every call bounded. */
export class ToxiproxyClient {
  constructor(readonly apiAddress: string) {}

  async version(): Promise<string> {
    return (await this.request("GET", "/version")).trim();
  }

  async proxies(): Promise<Record<string, ToxiProxy>> {
    return JSON.parse(await this.request("GET", "/proxies")) as Record<string, ToxiProxy>;
  }

  /** Creates the proxies, or replaces those of the same name (enabled, no toxics). */
  async populate(proxies: ToxiProxy[]): Promise<void> {
    await this.request("POST", "/populate", proxies);
  }

  /** Disabling closes every open connection of the proxy and stops listening. */
  async setEnabled(proxy: string, enabled: boolean): Promise<void> {
    await this.request("POST", `/proxies/${encodeURIComponent(proxy)}`, { enabled });
  }

  async addToxic(proxy: string, toxic: Toxic): Promise<void> {
    await this.request("POST", `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic);
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request(
      "DELETE",
      `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`,
    );
  }

  /** Enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    await this.request("POST", "/reset");
  }

  private async request(method: string, path: string, body?: unknown): Promise<string> {
    const url = `http://${this.apiAddress}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new StackError(
        `toxiproxy at ${this.apiAddress} did not answer ${method} ${path}: ${(error as Error).message}`,
        "is the multi-region stack up? npm run stack -- status",
      );
    }
    const text = await response.text();
    if (!response.ok) {
      throw new StackError(
        `toxiproxy ${method} ${path} answered ${response.status}: ${text.trim()}`,
      );
    }
    return text;
  }
}
