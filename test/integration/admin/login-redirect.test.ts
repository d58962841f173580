// No open redirect after sign-in. WHATWG path normalisation turns "/.//evil.example" (or
// "/..//", "/%2e//", "/a/..//") into the pathname "//evil.example", a protocol-relative URL a
// browser resolves to https://evil.example; safeCallbackUrl must refuse it in both places that
// use it: the login form (window.location.assign) and the login page's server redirect for a
// signed-in user.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { safeCallbackUrl } from "@/components/auth/login-helpers";
import { db } from "@/lib/db";

import { serverSession } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { getServerSession } = await import("next-auth");
const { default: LoginPage } = await import("@/app/(auth)/login/page");

const ORIGIN = "https://payouts.example";
const TRICKS = ["/.//evil.example/login", "/..//evil.example/login", "/%2e//evil.example/login", "/a/..//evil.example/login"];

/** Where a browser on ORIGIN ends up when told to go to `target`. */
function landsOn(target: string): string {
  return new URL(target, ORIGIN).origin;
}

let viewer: { id: string; sessionVersion: number };

beforeAll(async () => {
  const user = await db.adminUser.create({
    data: { email: "viewer-redirect@example.test", name: "Viewer", role: "viewer", passwordHash: "x" },
  });
  viewer = { id: user.id, sessionVersion: user.sessionVersion };
});

afterEach(() => {
  vi.mocked(getServerSession).mockReset();
});

describe("safeCallbackUrl (used by the login form after a successful sign-in)", () => {
  it.each(TRICKS)("keeps the browser on this origin for callbackUrl=%s", (trick) => {
    // Relative form (login page) and absolute form (login form passes window.location.origin).
    expect(landsOn(safeCallbackUrl(trick))).toBe(ORIGIN);
    expect(landsOn(safeCallbackUrl(trick, ORIGIN))).toBe(ORIGIN);
  });
});

describe("the login page, for a user who is already signed in", () => {
  it.each(TRICKS)("does not redirect off-site for callbackUrl=%s", async (trick) => {
    vi.mocked(getServerSession).mockResolvedValue((await serverSession(viewer)) as never);
    let location: string | null = null;
    try {
      await LoginPage({ searchParams: Promise.resolve({ callbackUrl: trick }), params: Promise.resolve({}) } as never);
    } catch (error) {
      // next/navigation's redirect() throws NEXT_REDIRECT;<type>;<url>;<status>;
      const digest = (error as { digest?: string }).digest ?? "";
      if (!digest.startsWith("NEXT_REDIRECT")) throw error;
      location = digest.split(";")[2] ?? null;
    }
    expect(location).not.toBeNull();
    expect(landsOn(location as string)).toBe(ORIGIN);
  });
});
