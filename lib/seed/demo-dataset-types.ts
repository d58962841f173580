import type { Prisma } from "@/generated/prisma/client";
import type { HoldReason, PayoutStatus } from "@/generated/prisma/enums";

/** A payout row while its story is being written; every field is set so the story can read it back. */
export type TPayoutRow = {
  id: string;
  bookingId: string;
  providerId: string;
  currency: string;
  providerShare: number;
  tipAmount: number;
  refundedAmount: number;
  amount: number;
  amountVersion: number;
  reversedAmount: number;
  status: PayoutStatus;
  holdReason: HoldReason | null;
  holdNote: string | null;
  cancelReason: string | null;
  eligibleAt: Date;
  attempts: number;
  lastError: string | null;
  processingStartedAt: Date | null;
  stripeTransferId: string | null;
  transferredAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

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
  alerts: Prisma.AlertCreateManyInput[];
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
    alerts: [],
    audit: [],
  };
}

/** An admin user as the data set refers to it (audit actor, alert acknowledger). */
export type TAdminRef = { id: string; name: string; email: string };
