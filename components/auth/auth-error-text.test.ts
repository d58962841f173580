import { describe, expect, it } from "vitest";

import { authErrorText } from "./auth-error-text";

describe("authErrorText", () => {
  it("explains next-auth's codes in words, and never echoes an unknown code", () => {
    expect(authErrorText("Configuration")).toMatch(/not configured correctly/);
    expect(authErrorText("AccessDenied")).toMatch(/may not sign in/);
    const generic = authErrorText(undefined);
    expect(generic).toMatch(/Something went wrong while signing in/);
    expect(authErrorText("<script>alert(1)</script>")).toBe(generic);
    expect(authErrorText("Default")).toBe(generic);
  });
});
