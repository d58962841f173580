// What Stripe in live mode shows a finance person: a payout paid with several transfers (one
// converted at its charge's rate), a payout waiting for funds with the date, and a provider whose
// bank payout failed. Rows are inserted with SQL (fixtures), the pages read in a real browser.
import * as fx from "./fixtures/payout-actions-fixtures";
import { query, signInAs } from "./support";
import { expect, test } from "./test";

test("a payout paid with two transfers shows each, the converted one with its rate, and the provider's failed bank payout", async ({
  page,
}) => {
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag, `Bank Fail ${tag.slice(-6)}`);
  const payout = await fx.insertPayout(provider, {
    tag,
    providerShare: 8_000,
    tipAmount: 1_500,
    currency: "EUR",
    status: "transferred",
    stripeTransferId: `tr_e2e_${tag}_1`,
  });
  const [bank] = await query<{ id: string }>(
    `INSERT INTO "ProviderBankPayout" ("providerId", "stripePayoutId", amount, currency, status, "failureCode", "failureMessage", "stateAt")
     VALUES ($1, $2, 10499, 'USD', 'failed', 'account_closed', 'The bank account has been closed.', now()) RETURNING id`,
    [provider.id, `po_e2e_${tag}`],
  );
  await query(
    `INSERT INTO "PayoutTransfer" ("payoutId", kind, "amountVersion", leg, "sourceChargeId", "payoutAmount", amount, currency, "exchangeRate", status, "idempotencyKey", "stripeTransferId", "bankPayoutId", "transferredAt")
     VALUES ($1, 'payout', 1, 1, $2, 8000, 8799, 'USD', '1.0999', 'succeeded', $3, $4, $6, now()),
            ($1, 'payout', 1, 2, NULL, 1500, 1500, 'EUR', NULL, 'succeeded', $5, $7, NULL, now())`,
    [payout.id, `ch_e2e_${tag}`, `payout:${payout.id}:v1`, `tr_e2e_${tag}_1`, `payout:${payout.id}:v1:l2`, bank!.id, `tr_e2e_${tag}_2`],
  );

  await signInAs(page, "viewer");
  await page.goto(`/payouts/${payout.id}`);
  await expect(page.getByTestId("status-callout")).toContainText("In the provider's Stripe balance; their bank payout failed");
  await expect(page.getByTestId("status-callout")).toContainText("account_closed");
  const transfers = page.getByTestId("payout-transfers");
  await expect(transfers.getByRole("listitem")).toHaveCount(2);
  await expect(transfers.getByRole("listitem").nth(0)).toContainText(`Transfer 1from charge ch_e2e_${tag}`);
  await expect(transfers.getByRole("listitem").nth(0)).toContainText("$87.99");
  await expect(transfers.getByRole("listitem").nth(0)).toContainText(
    "Carries €80.00 of the payout, at 1.0999 USD per EUR (the charge's exchange rate)",
  );
  await expect(transfers.getByRole("listitem").nth(1)).toContainText("from the platform's balance");
  await expect(transfers.getByRole("listitem").nth(1)).toContainText("€15.00");

  await page.goto(`/providers?q=${encodeURIComponent(provider.name)}`);
  const row = page.getByRole("row").filter({ hasText: provider.name });
  await expect(row).toContainText("Failed");
  await expect(row).toContainText("$104.99");
  await expect(row).toContainText("account_closed");
});

test("a payout waiting for funds says until when, and that no attempt was used", async ({ page }) => {
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag);
  const payout = await fx.insertPayout(provider, { tag, providerShare: 5_000, status: "on_hold", completedHoursAgo: 50 });
  await query(
    `UPDATE "Payout" SET "holdReason" = 'awaiting_funds', "holdNote" = 'Stripe refused the transfer for lack of funds',
            "fundsExpectedAt" = '2030-01-15T09:00:00Z', "fundsWaitingSince" = '2030-01-13T09:00:00Z' WHERE id = $1`,
    [payout.id],
  );
  await signInAs(page, "viewer");
  await page.goto(`/payouts/${payout.id}`);
  const callout = page.getByTestId("status-callout");
  await expect(callout).toContainText("Waiting for funds until");
  await expect(callout).toContainText("Jan 15, 2030");
  await expect(callout).toContainText("No attempt was used");
});
