import "server-only";

import { db } from "@/lib/db";
import { getStripe } from "@/lib/stripe/client";

import type { TWebhookDeps } from "./types";

/** The app's database and Stripe client, with the system clock. Tests pass their own. */
export const defaultWebhookDeps: TWebhookDeps = { db, stripe: getStripe };
