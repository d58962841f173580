// The demo providers: 50 people in four currencies who joined over a year and a half, three of
// whom cannot receive payouts (Stripe disabled them, never connected, still verifying).
import { toAuditRow } from "@/lib/audit/record-audit";

import {
  addMs,
  DAY,
  DEMO_PROVIDER_COUNT,
  HOUR,
  providerExternalId,
  type TCurrency,
  type TDemoContext,
  type TProviderPlan,
} from "./demo-context";
import { EMAIL_DOMAINS, REGIONS } from "./demo-names";
import { ACTORS } from "./payout-story";
import type { TRandom } from "./prng";

export function buildProviders(ctx: TDemoContext): void {
  const { random, ids } = ctx;
  const currencies = random.shuffle<TCurrency>([
    ...Array<TCurrency>(20).fill("USD"),
    ...Array<TCurrency>(13).fill("EUR"),
    ...Array<TCurrency>(10).fill("GBP"),
    ...Array<TCurrency>(7).fill("JPY"),
  ]);
  const names = new Set<string>();
  const emails = new Set<string>();
  for (let n = 1; n <= DEMO_PROVIDER_COUNT; n++) {
    const currency = currencies[n - 1] ?? "USD";
    const region = REGIONS.find((r) => r.currency === currency) ?? random.pick(REGIONS);
    let first = random.pick(region.first);
    let last = random.pick(region.last);
    while (names.has(`${first} ${last}`)) {
      first = random.pick(region.first);
      last = random.pick(region.last);
    }
    const name = `${first} ${last}`;
    names.add(name);
    const email = emailFor(ctx, first, last, emails);

    // Providers joined over the last year and a half; the last two joined days ago.
    const isNew = n > DEMO_PROVIDER_COUNT - 2;
    const joinedDaysAgo = isNew ? (n === DEMO_PROVIDER_COUNT ? 9 : 11) : 560 - (n - 1) * 10;
    const createdAt = new Date(ctx.nowMs - joinedDaysAgo * DAY - random.int(0, 20) * HOUR);
    const provider: TProviderPlan = {
      id: ids.uuid(),
      externalId: providerExternalId(n),
      name,
      region,
      stripeAccountId: ids.stripe("acct", 16),
      createdAt,
      weight: isNew ? 0.7 : random.float(0.4, 2),
      baseShare: Math.round(currency === "JPY" ? logUniform(random, 4_000, 12_000) : logUniform(random, 3_500, 16_000)),
      notReady: null,
    };
    let payoutsEnabled = true;
    let accountUpdatedAt: Date | null = addMs(createdAt, random.int(2, 60) * HOUR);

    if (n === 23) {
      // Stripe disabled payouts six days ago (requirements past due).
      payoutsEnabled = false;
      accountUpdatedAt = new Date(ctx.nowMs - 6 * DAY - random.int(0, 5) * HOUR);
      provider.weight = 0.8;
      provider.notReady = {
        since: accountUpdatedAt,
        reason: `Stripe account ${provider.stripeAccountId} has payouts disabled (requirements past due)`,
      };
      ctx.out.audit.push(
        accountUpdatedAudit(
          provider,
          "account.updated: requirements.past_due (individual.verification.document)",
          { stripeAccountId: provider.stripeAccountId, payoutsEnabled: true },
          accountUpdatedAt,
        ),
      );
    } else if (n === DEMO_PROVIDER_COUNT - 1) {
      // Signed up but never connected a Stripe account.
      payoutsEnabled = false;
      accountUpdatedAt = null;
      provider.stripeAccountId = null;
      provider.notReady = { since: createdAt, reason: "Provider has not connected a Stripe account yet" };
    } else if (n === DEMO_PROVIDER_COUNT) {
      // Connected, but Stripe is still verifying their identity.
      payoutsEnabled = false;
      accountUpdatedAt = addMs(createdAt, random.int(2, 6) * HOUR);
      provider.notReady = {
        since: createdAt,
        reason: `Stripe account ${provider.stripeAccountId} cannot receive payouts yet (identity verification pending)`,
      };
      ctx.out.audit.push(
        accountUpdatedAudit(
          provider,
          "account.updated: onboarding submitted, verification pending",
          { stripeAccountId: null, payoutsEnabled: false },
          accountUpdatedAt,
        ),
      );
    }

    ctx.providers.push(provider);
    ctx.out.providers.push({
      id: provider.id,
      externalId: provider.externalId,
      name,
      email,
      stripeAccountId: provider.stripeAccountId,
      payoutsEnabled,
      accountUpdatedAt,
      createdAt,
      updatedAt: accountUpdatedAt ?? createdAt,
    });
  }
}

function emailFor(ctx: TDemoContext, first: string, last: string, taken: Set<string>): string {
  const f = asciiSlug(first);
  const l = asciiSlug(last);
  for (;;) {
    const local = ctx.random.weighted<string>([
      [`${f}.${l}`, 4],
      [`${f}${l}`, 2],
      [`${f.charAt(0)}${l}`, 2],
      [`${f}.${l}${ctx.random.int(2, 99)}`, 1],
      [`${l}.${f}`, 1],
    ]);
    const email = `${local}@${ctx.random.pick(EMAIL_DOMAINS)}`;
    if (!taken.has(email)) {
      taken.add(email);
      return email;
    }
  }
}

function logUniform(random: TRandom, min: number, max: number): number {
  return Math.exp(random.float(Math.log(min), Math.log(max)));
}

function asciiSlug(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

/** The audit row of an account.updated that left the provider's account unable to receive payouts. */
function accountUpdatedAudit(
  provider: { id: string; stripeAccountId: string | null },
  reason: string,
  before: { stripeAccountId: string | null; payoutsEnabled: boolean },
  at: Date,
) {
  return toAuditRow({
    actor: ACTORS.stripeWebhook,
    action: "provider.account_updated",
    entityType: "provider",
    entityId: provider.id,
    reason,
    before,
    after: { stripeAccountId: provider.stripeAccountId, payoutsEnabled: false },
    at,
  });
}
