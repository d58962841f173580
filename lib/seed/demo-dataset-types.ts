import type { Payout, Prisma } from "@/generated/prisma/client";

/**
 * A payout row while its story is being written; every field is set so the story can read it back.
 * The repayment, transfer currency and funds-wait fields are left to their defaults.
 */
export type TPayoutRow = Omit<Payout, "repaidAmount" | "transferCurrency" | "fundsExpectedAt" | "fundsWaitingSince">;

/** Every row of the demo data set, in insertion (foreign-key) order. */
export type TDemoDataset = {
  providers: Prisma.ProviderCreateManyInput[];
  bookings: Prisma.BookingCreateManyInput[];
  payouts: TPayoutRow[];
  tips: Prisma.TipCreateManyInput[];
  disputes: Prisma.DisputeCreateManyInput[];
  transferAttempts: Prisma.TransferAttemptCreateManyInput[];
  transfers: Prisma.PayoutTransferCreateManyInput[];
  reversals: Prisma.TransferReversalCreateManyInput[];
  debts: Prisma.ProviderDebtCreateManyInput[];
  debtRecoveries: Prisma.DebtRecoveryCreateManyInput[];
  alerts: Prisma.AlertCreateManyInput[];
  notifications: Prisma.AlertNotificationCreateManyInput[];
  notificationItems: Prisma.AlertNotificationItemCreateManyInput[];
  audit: Prisma.AuditLogCreateManyInput[];
};

export function emptyDataset(): TDemoDataset {
  return {
    providers: [],
    bookings: [],
    payouts: [],
    tips: [],
    disputes: [],
    transferAttempts: [],
    transfers: [],
    reversals: [],
    debts: [],
    debtRecoveries: [],
    alerts: [],
    notifications: [],
    notificationItems: [],
    audit: [],
  };
}

/** An admin user as the data set refers to it (audit actor, alert acknowledger). */
export type TAdminRef = { id: string; name: string; email: string };
