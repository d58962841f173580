// The pages' Content-Security-Policy, with a fresh nonce per response (proxy.ts). Next.js reads
// the nonce from the policy on the request and puts it on its own scripts (framework, page
// chunks, the inline flight data and React's streaming scripts); 'strict-dynamic' lets those
// load the chunks they import, and nothing else runs: an injected <script> has no nonce.
// Pure and browser-safe (e2e tests build the expected policy with it).

/** A nonce for one response: 16 random bytes, base64 (CSP's nonce-source). */
export function createNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The policy for a page rendered with `nonce`.
 * - scripts: only nonce-carrying ones and what they load; `'unsafe-eval'` only in development
 *   (React rebuilds server error stacks with eval there; never in production).
 * - styles: the stylesheet, and inline `style` attributes (React's `style` prop, recharts, the
 *   toaster's injected rules): a nonce cannot cover attributes, and styles cannot run code.
 * - everything else from this origin only; no plugins, no framing, no foreign form targets.
 */
export function contentSecurityPolicy(nonce: string, options: { development?: boolean } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
