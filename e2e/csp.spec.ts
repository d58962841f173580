// The Content-Security-Policy every page runs under (proxy.ts, lib/http/content-security-policy.ts):
// scripts only with this response's nonce. Every other spec runs under it too: e2e/test.ts fails a
// test in which any page reports a violation.
import { signInAs } from "./support";
import { expect, test } from "./test";

const NONCE = /'nonce-([A-Za-z0-9+/=]+)'/;

test.describe("content security policy", () => {
  test("each page answer carries script-src with a fresh nonce that every script tag of the page has", async ({ page }) => {
    await signInAs(page, "viewer");
    const nonces: string[] = [];
    for (const path of ["/login", "/", "/payouts"]) {
      const response = await page.request.get(path);
      expect(response.status(), path).toBe(200);
      const policies = response.headersArray().filter((h) => h.name.toLowerCase() === "content-security-policy");
      expect(policies, `${path}: one policy, the page's`).toHaveLength(1);
      const policy = policies[0]!.value;
      expect(policy, path).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
      expect(policy, path).toContain("frame-ancestors 'none'");
      expect(policy, path).toContain("object-src 'none'");
      expect(policy, "no eval in production").not.toContain("unsafe-eval");
      const nonce = NONCE.exec(policy)?.[1];
      expect(nonce, path).toBeTruthy();
      nonces.push(nonce!);
      const html = await response.text();
      const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length, `${path} has scripts`).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag, `${path}: ${tag}`).toContain(`nonce="${nonce}"`);
    }
    expect(new Set(nonces).size, "a new nonce per answer").toBe(nonces.length);
  });

  test("a script injected into the page without the nonce does not run, and the page still works", async ({ page, cspViolations }) => {
    await signInAs(page, "viewer");
    // What a stored XSS would look like: markup in the server's HTML that the app did not put there.
    await page.route(
      (url) => url.pathname === "/payouts",
      async (route) => {
        const response = await route.fetch();
        const html = (await response.text()).replace(
          "</body>",
          '<script>window.__injected = "inline"</script><img src="/no-such-image.png" onerror="window.__injectedHandler = true"></body>',
        );
        await route.fulfill({ response, body: html });
      },
    );
    await page.goto("/payouts");
    await expect(page.getByRole("heading", { level: 1, name: "Payouts" })).toBeVisible();
    // The app's own scripts (nonce-carrying) ran: Next's client runtime is there.
    expect(await page.evaluate(() => typeof (window as unknown as { next?: { version?: string } }).next?.version)).toBe("string");

    expect(await page.evaluate(() => (window as unknown as { __injected?: string }).__injected)).toBeUndefined();
    expect(await page.evaluate(() => (window as unknown as { __injectedHandler?: boolean }).__injectedHandler)).toBeUndefined();
    await expect.poll(() => cspViolations.filter((v) => /script-src/.test(v.detail)).length).toBeGreaterThanOrEqual(2);
    // Provoked on purpose: not a failure of this test.
    cspViolations.length = 0;
  });
});
