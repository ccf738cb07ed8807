import { StrataError } from "../../shared/errors.js";
import type { ArgoConfig } from "./config.js";

/**
 * The Argo bearer token: STRATA_ARGO_TOKEN as given (Kubernetes secretKeyRef, an Azure Key Vault
 * reference in app settings, or a local shell), else the secret named by
 * STRATA_ARGO_TOKEN_SECRET read through the AWS Parameters and Secrets Lambda extension's local
 * endpoint (no SDK in the bundle; the function's role needs secretsmanager:GetSecretValue).
 */
export async function argoToken(
  token: ArgoConfig["token"],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if ("value" in token) return token.value;
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? "2773";
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(token.secret)}`;
  try {
    const response = await fetch(url, {
      headers: { "X-Aws-Parameters-Secrets-Token": env.AWS_SESSION_TOKEN ?? "" },
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { SecretString?: unknown };
    if (typeof body.SecretString !== "string" || body.SecretString === "") {
      throw new Error("the secret has no SecretString");
    }
    return body.SecretString;
  } catch (error) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      `the Argo token secret ${token.secret} could not be read through the secrets extension: ${(error as Error).message}`,
      { variable: "STRATA_ARGO_TOKEN_SECRET" },
      { cause: error },
    );
  }
}
