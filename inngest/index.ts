import { createDeliverPlatformWebhooksFunction } from "./functions/deliver-platform-webhooks";
import { createFollowUpPayoutFunction } from "./functions/follow-up-payout";
import { createNotifyAlertsFunction } from "./functions/notify-alerts";
import { createReconcilePayoutsFunction } from "./functions/reconcile-payouts";
import { createRepayProviderFunction } from "./functions/repay-provider";
import { createReverseTransferFunction } from "./functions/reverse-transfer";
import { createSchedulePayoutFunction } from "./functions/schedule-payout";
import { createSealAuditLogFunction } from "./functions/seal-audit-log";
import { createTopUpPayoutFunction } from "./functions/top-up-payout";
import { createTransferPayoutFunction } from "./functions/transfer-payout";
import { createVerifyAuditLogFunction } from "./functions/verify-audit-log";

/** Every Inngest function of the payout engine (and the audit log's sealer and verifier), served from app/api/inngest. */
export const functions = [
  createSchedulePayoutFunction(),
  createTransferPayoutFunction(),
  createFollowUpPayoutFunction(),
  createReverseTransferFunction(),
  createRepayProviderFunction(),
  createTopUpPayoutFunction(),
  createReconcilePayoutsFunction(),
  createDeliverPlatformWebhooksFunction(),
  createSealAuditLogFunction(),
  createVerifyAuditLogFunction(),
  createNotifyAlertsFunction(),
];
