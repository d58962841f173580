import "server-only";

import { NextResponse } from "next/server";
import { ZodError } from "zod";

import { AppError } from "@/lib/errors";

/** Maps any thrown value to a JSON error response; unknown errors are logged, never shown. */
export function errorResponse(error: unknown): NextResponse {
  if (error instanceof AppError) {
    return NextResponse.json(
      { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } },
      { status: error.status },
    );
  }
  if (error instanceof ZodError) {
    return NextResponse.json(
      {
        error: {
          code: "validation_failed",
          message: describeIssues(error),
          details: { issues: error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
        },
      },
      { status: 400 },
    );
  }
  console.error("Unhandled error in route handler", error);
  return NextResponse.json({ error: { code: "internal_error", message: "Something went wrong." } }, { status: 500 });
}

/**
 * "The request is invalid: q: must not contain a NUL character; to: must not be before the start
 * date." Names each parameter or field refused, so a person (or a client's log) sees which.
 */
function describeIssues(error: ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => {
    const message = i.message.replace(/\.$/, "");
    return i.path.length > 0 ? `${i.path.join(".")}: ${message}` : message;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : "";
  return issues.length > 0 ? `The request is invalid: ${issues.join("; ")}${more}.` : "The request is invalid.";
}

type THandler<C, R extends Request> = (request: R, context: C) => Promise<Response>;

/** Wraps a route handler so every thrown error becomes a mapped response. */
export function withErrors<C, R extends Request = Request>(handler: THandler<C, R>): THandler<C, R> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
