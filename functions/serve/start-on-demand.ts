// The serving runtime of a function instance (Lambda, Azure Functions), started on its first
// call and kept while the instance is warm. A start that fails is forgotten, so that one Redis
// blip at a cold start costs the calls made during it, not every later call of the instance.
import { StrataError } from "../../shared/errors.js";
import type { CoreRequest, CoreResponse } from "./handler.js";

export type Handle = (request: CoreRequest) => Promise<CoreResponse>;

/**
 * Starts `start` on demand, for the adapters: `pick` names the handle an adapter serves from
 * what started (a runtime has the feature API's handle and the admin one), and the result is
 * what the adapter calls per invocation: that handle, or, while start-up fails, a handle that
 * answers 503 STRATA_E_NOT_READY (the cause goes to `logError`, never to the client). Calls
 * that arrive while a start is under way share it, whichever handle they pick; the first call
 * after a failed start begins a new one.
 */
export function startOnDemand<T>(
  start: () => Promise<T>,
  logError: (message: string, error: unknown) => void,
): (pick: (started: T) => Handle) => () => Promise<Handle> {
  let starting: Promise<T> | undefined;
  const started = async (): Promise<T | undefined> => {
    // A start that throws at once (a bad configuration) fails like one that rejects.
    const attempt = (starting ??= new Promise<T>((resolve) => resolve(start())));
    try {
      return await attempt;
    } catch (error) {
      // Only the first caller to see this attempt fail forgets and reports it; the others
      // shared it and answer the same.
      if (starting === attempt) {
        starting = undefined;
        logError("the serving runtime could not start; the next call retries", error);
      }
      return undefined;
    }
  };
  return (pick) => async () => {
    const value = await started();
    return value === undefined ? notReady : pick(value);
  };
}

const NOT_READY_BODY = JSON.stringify({
  error: new StrataError(
    "STRATA_E_NOT_READY",
    "the function could not start (Redis, Kafka or the feature repo was not available); retry",
    {},
  ).toJSON(),
});

const notReady: Handle = () =>
  Promise.resolve({
    status: 503,
    headers: { "content-type": "application/json", "retry-after": "1" },
    body: NOT_READY_BODY,
  });
