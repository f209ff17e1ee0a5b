/**
 * Helpers for the API's errors, RFC 9457 problems: branch on the kind of problem by a short
 * name, and read a validation problem's field errors as a map for a form.
 * @module
 */
import type { components } from "./schema.js";

type Problem = components["schemas"]["Problem"];

/** The prefix of every problem `type` this API sends. */
export const PROBLEM_TYPE_PREFIX = "urn:todo-api:problem:";

/**
 * The kinds of problem the API sends, by short name, with their status: the `type` is
 * `urn:todo-api:problem:<name>`.
 */
export const problemStatuses = {
  "malformed-json": 400,
  unauthorized: 401,
  forbidden: 403,
  "not-found": 404,
  "method-not-allowed": 405,
  "cursor-expired": 410,
  "precondition-failed": 412,
  "payload-too-large": 413,
  "unsupported-media-type": 415,
  validation: 422,
  "rate-limited": 429,
  internal: 500,
  timeout: 503,
  unavailable: 503,
} as const;

/** A kind of problem, e.g. `"validation"` for `urn:todo-api:problem:validation`. */
export type ProblemKind = keyof typeof problemStatuses;

/** Whether `value` has the shape of a problem body (`type`, `title`, `status`, `detail`). */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.type === "string" &&
    typeof v.title === "string" &&
    typeof v.status === "number" &&
    typeof v.detail === "string"
  );
}

/**
 * The kind of a problem (`"validation"`, `"not-found"`, …), `undefined` for anything that is
 * not one of this API's problems (a network error, another server's answer).
 */
export function problemKind(error: unknown): ProblemKind | string | undefined {
  if (!isProblem(error) || !error.type.startsWith(PROBLEM_TYPE_PREFIX)) return undefined;
  return error.type.slice(PROBLEM_TYPE_PREFIX.length);
}

/**
 * Whether `error` is this API's problem of that kind; narrows it to {@link Problem}.
 *
 * ```ts
 * if (isProblemOf(error, "validation")) setErrors(fieldErrors(error));
 * ```
 */
export function isProblemOf(error: unknown, kind: ProblemKind): error is Problem {
  return problemKind(error) === kind;
}

/**
 * A validation problem's errors by field (`{ title: "must not be empty" }`): the first detail
 * of each field. Empty for any other error.
 */
export function fieldErrors(error: unknown): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  if (!isProblem(error)) return out;
  for (const { field, detail } of error.errors ?? []) {
    if (out[field] === undefined) out[field] = detail;
  }
  return out;
}

/**
 * A sentence to show for any error a call can end with: the problem's `detail`, a network
 * error's message, or a generic one.
 */
export function errorMessage(error: unknown): string {
  if (isProblem(error)) return error.detail;
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong";
}
