// The HTTP edges on the real server (next start): next-auth's endpoints refuse large or
// non-form bodies before reading them, and a NUL in a filter is a 400 naming the parameter, for
// the list and for the CSV export alike. (Integration tests cover the same at the handlers:
// test/integration/api/http-edges.test.ts.)
import { signInAs } from "./support";
import { expect, test } from "./test";

test.describe("HTTP edges", () => {
  test("next-auth answers 413 to a 50 MB sign-in body and 415 to a body that is not a form", async ({ request }) => {
    const started = Date.now();
    const big = await request.post("/api/auth/callback/credentials", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      data: Buffer.alloc(50 * 1024 * 1024, "a"),
    });
    expect(big.status()).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: "payload_too_large" } });
    expect(Date.now() - started).toBeLessThan(15_000);

    const text = await request.post("/api/auth/callback/credentials", {
      headers: { "content-type": "text/plain" },
      data: "email=a@example.test&password=x",
    });
    expect(text.status()).toBe(415);
    expect(await text.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  test("a NUL in a filter is a 400 naming the parameter, on the list and on the export", async ({ page }) => {
    await signInAs(page, "viewer");
    for (const path of ["/api/admin/payouts?q=ab%00cd", "/api/admin/payouts/export?provider=ab%00cd", "/api/admin/providers?q=%00"]) {
      const response = await page.request.get(path);
      expect(response.status(), path).toBe(400);
      expect(response.headers()["content-type"], path).toContain("application/json");
      const parameter = new URL(path, "http://x").searchParams.keys().next().value!;
      expect((await response.json()) as { error: { message: string } }, path).toMatchObject({
        error: { code: "validation_failed", message: expect.stringContaining(`${parameter}: must not contain a NUL character`) },
      });
    }
  });
});
