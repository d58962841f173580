import { test as base, type Browser, type BrowserContext, type Page } from "@playwright/test";

export { expect } from "@playwright/test";

/**
 * Resolves once the document has loaded and React has revealed every streamed Suspense
 * boundary it queued.
 *
 * Since React 19.2 a streamed boundary's content waits (up to ~300 ms) in a hidden
 * `<div hidden id="S:n">` while its reveal sits in the `window.$RB` queue. When hydration
 * client-renders that boundary first, the page briefly holds the content twice
 * (react/react#37014) until the queued reveal runs and drops the orphan. Users never see the
 * hidden copy, but a strict Playwright locator that runs in that window fails at once on
 * "resolved to 2 elements". An empty queue closes the window. (A hidden segment can also
 * stay for good, e.g. under a not-found page, so the queue is the signal, not the DOM.)
 */
export async function streamSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const queue = (window as { $RB?: unknown[] }).$RB;
      return document.readyState === "complete" && (queue === undefined || queue.length === 0);
    },
    undefined,
    { polling: 50 },
  );
}

const patched = new WeakSet<object>();

/** Makes `goto` and `reload` on this page wait for {@link streamSettled} before they return. */
function settleNavigations(page: Page): void {
  if (patched.has(page)) return;
  patched.add(page);
  const goto = page.goto.bind(page);
  const reload = page.reload.bind(page);
  page.goto = async (...args: Parameters<Page["goto"]>) => {
    const response = await goto(...args);
    await streamSettled(page);
    return response;
  };
  page.reload = async (...args: Parameters<Page["reload"]>) => {
    const response = await reload(...args);
    await streamSettled(page);
    return response;
  };
}

/** A Content-Security-Policy violation a page reported: where, and what was blocked. */
export type TCspViolation = { url: string; detail: string };

/** The running test's violations (one worker runs one test at a time). */
let currentViolations: TCspViolation[] | null = null;

/**
 * Records every CSP violation in the context's pages: the browser's console message ("Refused to
 * execute inline script because it violates the following Content Security Policy directive…")
 * and the document's `securitypolicyviolation` event, reported through a binding. Playwright
 * injects both hooks itself, so the page's policy does not block them.
 */
async function watchCsp(context: BrowserContext): Promise<void> {
  if (patched.has(context)) return;
  patched.add(context);
  context.on("console", (message) => {
    if (/content security policy/i.test(message.text()))
      currentViolations?.push({ url: message.page()?.url() ?? "", detail: message.text() });
  });
  await context.exposeBinding("__reportCspViolation", ({ page }, detail: string) => {
    currentViolations?.push({ url: page.url(), detail });
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __reportCspViolation?: (detail: string) => void }).__reportCspViolation;
      report?.(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"} (${event.sourceFile || "document"}:${event.lineNumber})`,
      );
    });
  });
}

async function settleContext(context: BrowserContext): Promise<BrowserContext> {
  await watchCsp(context);
  context.pages().forEach(settleNavigations);
  context.on("page", settleNavigations);
  return context;
}

function settleBrowser(browser: Browser): Browser {
  if (patched.has(browser)) return browser;
  patched.add(browser);
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args: Parameters<Browser["newContext"]>) => settleContext(await newContext(...args));
  return browser;
}

/**
 * Playwright's `test`, with every page (the fixture's and any a test opens itself) waiting for
 * streamed content to settle after `goto` and `reload`, and every page running under the app's
 * enforced Content-Security-Policy: a test in which any page reports a violation fails. A test
 * that provokes one on purpose reads `cspViolations` and empties it.
 */
export const test = base.extend<{ cspViolations: TCspViolation[] }>({
  cspViolations: [
    async ({}, provide) => {
      const violations: TCspViolation[] = [];
      currentViolations = violations;
      await provide(violations);
      currentViolations = null;
      if (violations.length > 0) {
        throw new Error(`Content-Security-Policy violations:\n${violations.map((v) => `  ${v.url}: ${v.detail}`).join("\n")}`);
      }
    },
    { auto: true },
  ],
  browser: [async ({ browser }, provide) => provide(settleBrowser(browser)), { scope: "worker" }],
  context: async ({ context }, provide) => provide(await settleContext(context)),
  page: async ({ page }, provide) => {
    settleNavigations(page);
    await provide(page);
  },
});
