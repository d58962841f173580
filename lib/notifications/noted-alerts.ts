// Alerts raised in this process whose first notification attempt has not been made yet, by
// dedupe key, with when they were raised (ms). raiseAlert notes them inside the raising
// transaction; after-commit.ts reads them. No imports: raiseAlert stays light.
export const notedAlerts = new Map<string, number>();

/** Called by raiseAlert when it wrote an alert (inside the caller's transaction, before its commit). */
export function noteAlertRaised(dedupeKey: string): void {
  notedAlerts.set(dedupeKey, Date.now());
}
