// Pure helpers for the login form (unit-tested in login-helpers.test.ts).

const LOCAL_BASE = "http://local.invalid";

/**
 * Where to go after signing in: a same-origin path from `callbackUrl`, else "/".
 * Relative paths must start with "/" (not "//"); the URL parser then settles tricks
 * like "/\\evil.example" or embedded tabs. An absolute URL is accepted only when
 * `currentOrigin` is given and matches (next-auth itself builds absolute callback URLs).
 */
export function safeCallbackUrl(callbackUrl: string | null | undefined, currentOrigin?: string): string {
  if (!callbackUrl) return "/";
  let base = LOCAL_BASE;
  if (!callbackUrl.startsWith("/")) {
    if (!currentOrigin) return "/";
    base = currentOrigin;
  } else if (callbackUrl.startsWith("//")) {
    return "/";
  }
  let url: URL;
  try {
    url = new URL(callbackUrl, base);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(base).origin) return "/";
  // Normalising "/.//evil.example" or "/a/..//evil.example" can leave a path starting with "//"
  // (or "/\\"), which a browser reads as another host: never hand such a path back.
  if (/^\/[\\/]/.test(url.pathname)) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}

export const GENERIC_SIGN_IN_ERROR = "Sign-in failed. Please try again.";
export const MISSING_FIELDS_ERROR = "Enter your email and password.";
export const NETWORK_SIGN_IN_ERROR = "Could not reach the server. Check your connection and try again.";

/**
 * The message to show for `signIn`'s `result.error`: the server's sentence (thrown by
 * `authorize`, e.g. "Email or password is incorrect."), or a generic message for next-auth's
 * bare error codes ("CredentialsSignin", "Configuration", …).
 */
export function signInErrorMessage(error: string | null | undefined): string {
  if (!error) return GENERIC_SIGN_IN_ERROR;
  if (error === "CredentialsSignin") return "Email or password is incorrect.";
  return /\s/.test(error.trim()) ? error.trim() : GENERIC_SIGN_IN_ERROR;
}

/**
 * The page to return to after signing in: `pathname` with the query the page was opened with
 * (a search-params record as Next.js hands it to a page).
 */
export function pathWithSearch(pathname: string, searchParams: Record<string, string | string[] | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(searchParams)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) query.append(key, v);
  }
  const search = query.toString();
  return search ? `${pathname}?${search}` : pathname;
}

/** The login page, asked to come back to `path` (a same-origin path only; anything else: plain /login). */
export function loginUrlFor(path: string | null | undefined): string {
  const back = safeCallbackUrl(path);
  return back === "/" ? "/login" : `/login?callbackUrl=${encodeURIComponent(back)}`;
}
