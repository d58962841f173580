// Client-side access to the overview: the query key and the fetcher for GET /api/admin/overview.
import type { TOverview } from "./types";

export const overviewKeys = {
  all: ["overview"] as const,
};

export class OverviewFetchError extends Error {
  override name = "OverviewFetchError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The `message` of the API's `{ error: { code, message } }` body, if it has one. */
function errorMessageOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const { error } = body;
  if (typeof error !== "object" || error === null || !("message" in error)) return undefined;
  return typeof error.message === "string" ? error.message : undefined;
}

export async function fetchOverview(signal?: AbortSignal): Promise<TOverview> {
  const response = await fetch("/api/admin/overview", { signal, headers: { accept: "application/json" }, cache: "no-store" });
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    throw new OverviewFetchError(response.status, errorMessageOf(body) ?? `The server answered ${response.status}.`);
  }
  return (await response.json()) as TOverview;
}
