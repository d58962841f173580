// Which Chromium the end-to-end tests run in (scripts/e2e.mjs). Plain TypeScript without path
// aliases, so Node runs it directly. No I/O of its own: the caller passes how to look for a file
// and how to install Playwright's Chromium, so the order is a unit test.

/** Where distributions put Chromium (`apt-get install -y chromium`). */
export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

export type TChromiumSource = "CHROMIUM_PATH" | "playwright" | "system";

export type TChromiumChoice =
  | {
      ok: true;
      source: TChromiumSource;
      /** undefined: Playwright's own browser. */
      executablePath: string | undefined;
      /** Why Playwright's own was not used, when the system's is. */
      installError?: string;
    }
  | { ok: false; message: string };

export type TChromiumProbe = {
  /** CHROMIUM_PATH from the environment: a binary chosen by hand, tried alone. */
  chromiumPath: string | undefined;
  exists: (path: string) => boolean;
  /** Runs `npx playwright install chromium` (quick when it is installed already); true when it succeeded. */
  installPlaywrightChromium: () => { ok: true } | { ok: false; reason: string };
  systemChromium?: string;
};

/**
 * CHROMIUM_PATH when set (and it must exist); else Playwright's own Chromium when it can be
 * installed; else the system's Chromium; else a message saying exactly what to run.
 */
export function chooseChromium(probe: TChromiumProbe): TChromiumChoice {
  const chromiumPath = probe.chromiumPath?.trim() || undefined;
  if (chromiumPath !== undefined) {
    if (probe.exists(chromiumPath)) return { ok: true, source: "CHROMIUM_PATH", executablePath: chromiumPath };
    return {
      ok: false,
      message: `CHROMIUM_PATH is ${chromiumPath}, which does not exist. Point it at a Chromium or Chrome binary, or unset it.`,
    };
  }

  const installed = probe.installPlaywrightChromium();
  if (installed.ok) return { ok: true, source: "playwright", executablePath: undefined };

  const system = probe.systemChromium ?? SYSTEM_CHROMIUM;
  if (probe.exists(system)) return { ok: true, source: "system", executablePath: system, installError: installed.reason };

  return {
    ok: false,
    message:
      `No Chromium for the end-to-end tests: Playwright's could not be installed (${installed.reason}) and ${system} does not exist. Run one of:\n` +
      "    npx playwright install chromium\n" +
      "    sudo apt-get update && sudo apt-get install -y chromium\n" +
      "  or set CHROMIUM_PATH to a Chromium or Chrome binary.",
  };
}
