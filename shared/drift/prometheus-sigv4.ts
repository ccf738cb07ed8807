import { Sha256 } from "@aws-crypto/sha256-js";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { SignatureV4 } from "@smithy/signature-v4";

/** What a request signer sees of a Prometheus query: it returns the headers to send. */
export interface PrometheusRequest {
  url: URL;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

export type PrometheusRequestSigner = (
  request: PrometheusRequest,
) => Promise<Record<string, string>>;

/**
 * Amazon Managed Service for Prometheus answers its query API only to requests signed with AWS
 * Signature Version 4 for the service `aps`; a bearer token or plain request is refused. Signs
 * each query (the signature covers its body and time) with the function's role, through the
 * SDK's default credential chain (the Lambda's execution role).
 */
type Credentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

export function sigV4PrometheusSigner(
  region: string,
  credentials: Credentials = fromNodeProviderChain(),
): PrometheusRequestSigner {
  const signer = new SignatureV4({ service: "aps", region, credentials, sha256: Sha256 });
  return async ({ url, method, headers, body }) => {
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      // `host` must be signed: it is the one header the service checks the signature against.
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers;
  };
}
