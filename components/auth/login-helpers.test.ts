import { describe, expect, it } from "vitest";

import { GENERIC_SIGN_IN_ERROR, loginUrlFor, pathWithSearch, safeCallbackUrl, signInErrorMessage } from "./login-helpers";

describe("safeCallbackUrl", () => {
  it("keeps same-origin relative paths with their query and hash", () => {
    expect(safeCallbackUrl("/payouts")).toBe("/payouts");
    expect(safeCallbackUrl("/payouts?status=failed#top")).toBe("/payouts?status=failed#top");
    expect(safeCallbackUrl("/")).toBe("/");
  });

  it("falls back to / for missing, protocol-relative and foreign URLs", () => {
    expect(safeCallbackUrl(undefined)).toBe("/");
    expect(safeCallbackUrl(null)).toBe("/");
    expect(safeCallbackUrl("")).toBe("/");
    expect(safeCallbackUrl("//evil.example/path")).toBe("/");
    expect(safeCallbackUrl("/\\evil.example")).toBe("/");
    expect(safeCallbackUrl("/\t/evil.example")).toBe("/");
    // Paths that normalise to "//host" (dot segments, encoded dots).
    for (const trick of ["/.//evil.example/x", "/..//evil.example", "/%2e//evil.example", "/a/..//evil.example", "/./\\evil.example"]) {
      expect(safeCallbackUrl(trick)).toBe("/");
      expect(safeCallbackUrl(`http://localhost:3200${trick}`, "http://localhost:3200")).toBe("/");
    }
    expect(safeCallbackUrl("https://evil.example/")).toBe("/");
    expect(safeCallbackUrl("javascript:alert(1)")).toBe("/");
    expect(safeCallbackUrl("payouts")).toBe("/");
  });

  it("accepts an absolute URL only on the current origin", () => {
    expect(safeCallbackUrl("http://localhost:3200/disputes?x=1", "http://localhost:3200")).toBe("/disputes?x=1");
    expect(safeCallbackUrl("http://localhost:3201/disputes", "http://localhost:3200")).toBe("/");
    expect(safeCallbackUrl("https://evil.example/", "http://localhost:3200")).toBe("/");
    expect(safeCallbackUrl("javascript:alert(1)", "http://localhost:3200")).toBe("/");
  });
});

describe("signInErrorMessage", () => {
  it("shows the server's message", () => {
    expect(signInErrorMessage("Email or password is incorrect.")).toBe("Email or password is incorrect.");
    expect(signInErrorMessage("This account is disabled. Ask an admin to re-enable it.")).toBe(
      "This account is disabled. Ask an admin to re-enable it.",
    );
  });

  it("falls back to a generic message for codes and nothing", () => {
    expect(signInErrorMessage(undefined)).toBe(GENERIC_SIGN_IN_ERROR);
    expect(signInErrorMessage(null)).toBe(GENERIC_SIGN_IN_ERROR);
    expect(signInErrorMessage("Configuration")).toBe(GENERIC_SIGN_IN_ERROR);
    expect(signInErrorMessage("CredentialsSignin")).toBe("Email or password is incorrect.");
  });
});

describe("loginUrlFor and pathWithSearch", () => {
  it("asks the login page to come back to a same-origin path, with its query", () => {
    expect(loginUrlFor("/payouts/4b0c2f52-0a43-4d0e-9d5f-0b1c2d3e4f50")).toBe(
      "/login?callbackUrl=%2Fpayouts%2F4b0c2f52-0a43-4d0e-9d5f-0b1c2d3e4f50",
    );
    expect(loginUrlFor(pathWithSearch("/payouts", { status: ["failed", "on_hold"], q: "a&b", empty: undefined }))).toBe(
      `/login?callbackUrl=${encodeURIComponent("/payouts?status=failed&status=on_hold&q=a%26b")}`,
    );
    expect(pathWithSearch("/alerts")).toBe("/alerts");
  });

  it("never carries a foreign or protocol-relative URL, nor the Overview itself", () => {
    expect(loginUrlFor("https://evil.example/payouts")).toBe("/login");
    expect(loginUrlFor("//evil.example/payouts")).toBe("/login");
    expect(loginUrlFor("/")).toBe("/login");
    expect(loginUrlFor(undefined)).toBe("/login");
  });
});
