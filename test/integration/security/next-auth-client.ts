// Signing in and out through next-auth itself (its Pages-API entry point, the same core as the
// App Router handler, which only differs in reading cookies from next/headers): a CSRF token,
// the credentials callback with the real authorize(), the session cookie it sets, and
// getServerSession decoding that cookie exactly as it does in a request.
import NextAuth, { type NextAuthOptions } from "next-auth";

type TResult = { status: number; body: unknown; cookies: Record<string, string> };

export const SESSION_COOKIE = "next-auth.session-token";

async function call(
  options: NextAuthOptions,
  input: {
    action: string[];
    method: "GET" | "POST";
    body?: Record<string, string>;
    cookies?: Record<string, string>;
    headers?: Record<string, string>;
  },
): Promise<TResult> {
  const headers = new Map<string, string | string[]>();
  const out: TResult = { status: 200, body: undefined, cookies: {} };
  const res = {
    status(code: number) {
      out.status = code;
      return res;
    },
    setHeader(name: string, value: string | string[]) {
      headers.set(name.toLowerCase(), value);
      return res;
    },
    getHeader(name: string) {
      return headers.get(name.toLowerCase());
    },
    json(body: unknown) {
      out.body = body;
      return res;
    },
    send(body: unknown) {
      out.body = body;
      return res;
    },
    end() {
      return res;
    },
  };
  const req = {
    method: input.method,
    query: { nextauth: input.action },
    body: input.body,
    cookies: input.cookies ?? {},
    headers: { host: "localhost:3000", "user-agent": "vitest", ...input.headers },
  };
  await NextAuth(req as never, res as never, options);
  const setCookies = headers.get("set-cookie") ?? [];
  for (const line of Array.isArray(setCookies) ? setCookies : [setCookies]) {
    const [pair = ""] = line.split(";");
    const at = pair.indexOf("=");
    out.cookies[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1));
  }
  return out;
}

async function csrf(options: NextAuthOptions): Promise<{ token: string; cookies: Record<string, string> }> {
  const result = await call(options, { action: ["csrf"], method: "GET" });
  return { token: (result.body as { csrfToken: string }).csrfToken, cookies: result.cookies };
}

/**
 * Signs in through the credentials callback. Returns the session cookie's value, or the error
 * next-auth redirects to the login page with.
 */
export async function signInThroughNextAuth(
  options: NextAuthOptions,
  credentials: { email: string; password: string },
  headers: Record<string, string> = {},
): Promise<{ sessionToken: string | null; error: string | null }> {
  const { token, cookies } = await csrf(options);
  const result = await call(options, {
    action: ["callback", "credentials"],
    method: "POST",
    body: { csrfToken: token, ...credentials, json: "true" },
    cookies,
    headers,
  });
  const url = new URL((result.body as { url: string }).url, "http://localhost:3000");
  return { sessionToken: result.cookies[SESSION_COOKIE] ?? null, error: url.searchParams.get("error") };
}

/** Signs out the session this cookie carries, as the Sign out button does. */
export async function signOutThroughNextAuth(options: NextAuthOptions, sessionToken: string): Promise<void> {
  const { token, cookies } = await csrf(options);
  const result = await call(options, {
    action: ["signout"],
    method: "POST",
    body: { csrfToken: token, json: "true" },
    cookies: { ...cookies, [SESSION_COOKIE]: sessionToken },
  });
  if (result.cookies[SESSION_COOKIE] !== "") throw new Error("next-auth did not clear the session cookie");
}

/** The request's cookies, as next/headers would give them to getServerSession inside a request. */
export function requestWithCookie(sessionToken: string | null) {
  const req = { headers: {}, cookies: sessionToken ? { [SESSION_COOKIE]: sessionToken } : {} };
  const res = { getHeader: () => undefined, setCookie: () => undefined, setHeader: () => undefined };
  return { req, res };
}
