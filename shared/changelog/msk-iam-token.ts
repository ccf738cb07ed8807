import { generateAuthToken } from "aws-msk-iam-sasl-signer-js";
import type { OauthbearerProviderResponse } from "kafkajs";

/** What the AWS MSK IAM signer returns: a base64url presigned URL and when it stops being valid. */
export interface MskAuthToken {
  token: string;
  /** Milliseconds since the Unix epoch. */
  expiryTime: number;
}

/** Signs a token for the region; the default is the signer's default AWS credential chain. */
export type MskTokenSigner = (options: { region: string }) => Promise<MskAuthToken>;

export interface MskIamTokenProviderOptions {
  /** The AWS region of the MSK cluster (the signed host is kafka.<region>.amazonaws.com). */
  region: string;
  /** Replaced in tests; production signs with the task or pod role's credentials. */
  sign?: MskTokenSigner;
  /**
   * A cached token is re-signed once less than this remains of its life (default 60,000 ms),
   * so a connection never authenticates with a token that expires during the handshake.
   */
  refreshBeforeMs?: number;
  now?: () => number;
}

/**
 * kafkajs' `oauthBearerProvider` for Amazon MSK IAM authentication (SASL OAUTHBEARER). kafkajs
 * calls it for every broker connection and re-authentication; one token is shared until it is
 * close to expiry, and concurrent callers wait on the same signing.
 */
export function mskIamTokenProvider(
  options: MskIamTokenProviderOptions,
): () => Promise<OauthbearerProviderResponse> {
  const sign = options.sign ?? defaultSigner;
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  const now = options.now ?? Date.now;
  let current: MskAuthToken | undefined;
  let signing: Promise<MskAuthToken> | undefined;
  return async () => {
    if (current && current.expiryTime - now() > refreshBeforeMs) return { value: current.token };
    signing ??= sign({ region: options.region }).finally(() => (signing = undefined));
    const token = await signing;
    current = token;
    return { value: token.token };
  };
}

const defaultSigner: MskTokenSigner = ({ region }) => generateAuthToken({ region });
