// Typed errors with a code and an HTTP status; lib/api/respond.ts maps them to responses.

export type TErrorDetails = Record<string, unknown> | undefined;

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: TErrorDetails,
  ) {
    super(message);
  }
}

export class ValidationError extends AppError {
  override name = "ValidationError";
  constructor(message: string, details?: TErrorDetails) {
    super("validation_failed", message, 400, details);
  }
}

export class UnauthorizedError extends AppError {
  override name = "UnauthorizedError";
  constructor(message = "Sign in to continue.") {
    super("unauthorized", message, 401);
  }
}

export class ForbiddenError extends AppError {
  override name = "ForbiddenError";
  constructor(message = "Your role does not allow this action.") {
    super("forbidden", message, 403);
  }
}

export class NotFoundError extends AppError {
  override name = "NotFoundError";
  constructor(entity: string, id: string) {
    super("not_found", `${entity} ${id} was not found.`, 404, { entity, id });
  }
}

export class ConflictError extends AppError {
  override name = "ConflictError";
  constructor(message: string, details?: TErrorDetails) {
    super("conflict", message, 409, details);
  }
}

/** A service we depend on (Stripe) could not be asked; the same request may go through later. */
export class UnavailableError extends AppError {
  override name = "UnavailableError";
  constructor(message: string, details?: TErrorDetails) {
    super("unavailable", message, 503, details);
  }
}
