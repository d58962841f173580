import { describe, expect, it } from "vitest";

import { chooseChromium, SYSTEM_CHROMIUM, type TChromiumProbe } from "./choose-chromium";

function probe(overrides: Partial<TChromiumProbe> & { files?: string[] } = {}) {
  const installs: number[] = [];
  const files = new Set(overrides.files ?? []);
  const result: TChromiumProbe = {
    chromiumPath: undefined,
    exists: (path) => files.has(path),
    installPlaywrightChromium: () => {
      installs.push(1);
      return { ok: false, reason: "getaddrinfo ENOTFOUND cdn.playwright.dev" };
    },
    ...overrides,
  };
  return { probe: result, installs };
}

const installs = () => ({ ok: true }) as const;

describe("chooseChromium", () => {
  it("uses Playwright's own Chromium when it can be installed, even with a system Chromium", () => {
    const { probe: p } = probe({ installPlaywrightChromium: installs, files: [SYSTEM_CHROMIUM] });
    expect(chooseChromium(p)).toEqual({ ok: true, source: "playwright", executablePath: undefined });
  });

  it("falls back to /usr/bin/chromium when the install fails (no download on this network)", () => {
    const { probe: p, installs: tries } = probe({ files: [SYSTEM_CHROMIUM] });
    expect(chooseChromium(p)).toEqual({
      ok: true,
      source: "system",
      executablePath: SYSTEM_CHROMIUM,
      installError: "getaddrinfo ENOTFOUND cdn.playwright.dev",
    });
    expect(tries).toHaveLength(1);
  });

  it("says exactly what to run when neither is there", () => {
    const { probe: p } = probe();
    const choice = chooseChromium(p);
    expect(choice.ok).toBe(false);
    if (choice.ok) return;
    expect(choice.message).toContain("getaddrinfo ENOTFOUND cdn.playwright.dev");
    expect(choice.message).toContain(`${SYSTEM_CHROMIUM} does not exist`);
    expect(choice.message).toContain("npx playwright install chromium");
    expect(choice.message).toContain("apt-get install -y chromium");
  });

  it("takes CHROMIUM_PATH alone when set, without installing anything", () => {
    const { probe: p, installs: tries } = probe({ chromiumPath: "/opt/chrome/chrome", files: ["/opt/chrome/chrome", SYSTEM_CHROMIUM] });
    expect(chooseChromium(p)).toEqual({ ok: true, source: "CHROMIUM_PATH", executablePath: "/opt/chrome/chrome" });
    expect(tries).toHaveLength(0);
  });

  it("refuses a CHROMIUM_PATH that does not exist rather than silently using another browser", () => {
    const { probe: p, installs: tries } = probe({ chromiumPath: "/nope/chromium", files: [SYSTEM_CHROMIUM] });
    expect(chooseChromium(p)).toEqual({
      ok: false,
      message: "CHROMIUM_PATH is /nope/chromium, which does not exist. Point it at a Chromium or Chrome binary, or unset it.",
    });
    expect(tries).toHaveLength(0);
  });

  it("treats an empty CHROMIUM_PATH as unset", () => {
    const { probe: p } = probe({ chromiumPath: " ", files: [SYSTEM_CHROMIUM] });
    expect(chooseChromium(p)).toMatchObject({ ok: true, source: "system" });
  });
});
