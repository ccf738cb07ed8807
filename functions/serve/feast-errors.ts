import type { StrataError } from "../../shared/errors.js";
import type { CoreRequest, CoreResponse } from "./handler.js";

/**
 * Errors as Feast's SDK reads them. Feast's feature server answers a FeastError with the
 * exception's status and, as the body, a JSON *string* holding `{"module", "class",
 * "message"}`; the SDK's REST error handler parses that string and raises the class it
 * names. A JSON object, Strata's `{"error": {...}}` with those fields added, is not read
 * (the SDK json-loads the decoded body, and an object fails that), so the two shapes cannot
 * share one body: the response is chosen by who asks (isFeastSdkRequest).
 */
interface FeastErrorClass {
  className: string;
  status: number;
}

/** Feast's class and status for each Strata failure that has a Feast counterpart; other codes keep Strata's body. */
function feastClassOf(error: StrataError, path: string): FeastErrorClass | undefined {
  switch (error.code) {
    case "STRATA_E_UNKNOWN_VIEW":
      // Feast's write endpoint looks any object up by name and reports this class.
      return path === WRITE_PATH
        ? { className: "FeastObjectNotFoundException", status: 404 }
        : { className: "FeatureViewNotFoundException", status: 404 };
    case "STRATA_E_UNKNOWN_FEATURE_SERVICE":
      return { className: "FeatureServiceNotFoundException", status: 404 };
    case "STRATA_E_FORBIDDEN":
      return { className: "FeastPermissionError", status: 403 };
    default:
      return undefined;
  }
}

const WRITE_PATH = "/write-to-online-store";
/** A field Feast 0.67's SDK puts in every /get-online-features body and Strata's clients do not send. */
const SDK_READ_MARKER = '"include_feature_view_version_metadata"';

/**
 * Whether the request comes from Feast's SDK (its remote online store): a write to Feast's
 * own write endpoint, which only the SDK calls, or a read whose body carries the field the
 * SDK always sends. Decided from the raw body, so it holds for errors raised before the body
 * is parsed (a key without access) and for bodies that do not parse.
 */
export function isFeastSdkRequest(request: CoreRequest): boolean {
  if (request.path === WRITE_PATH) return true;
  if (request.path !== "/get-online-features" || request.body === undefined) return false;
  return request.body.includes(SDK_READ_MARKER);
}

/**
 * Feast's answer for a Strata error, when the SDK asked and Feast has a class for the failure:
 * that class's status and Feast's error detail, the message carrying Strata's code. Undefined
 * otherwise: Strata's own error body then, which the SDK raises as a RuntimeError naming the
 * status and the body, as it does for Feast's own errors that are not FeastErrors.
 */
export function feastErrorResponse(
  error: StrataError,
  request: CoreRequest,
): CoreResponse | undefined {
  if (!isFeastSdkRequest(request)) return undefined;
  const feast = feastClassOf(error, request.path);
  if (!feast) return undefined;
  const detail = JSON.stringify({
    module: "feast.errors",
    class: feast.className,
    message: `${error.message} (${error.code})`,
  });
  return {
    status: feast.status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(detail),
  };
}
