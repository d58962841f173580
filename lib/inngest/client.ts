import { Inngest } from "inngest";

import { getEnv } from "@/lib/env";

const env = getEnv();

/**
 * The Inngest client. Without a signing key (development, tests) it talks to a local
 * Inngest dev server (`INNGEST_DEV=1`, http://127.0.0.1:8288 unless INNGEST_BASE_URL);
 * in production to Inngest Cloud with INNGEST_EVENT_KEY / INNGEST_SIGNING_KEY.
 */
export const inngest = new Inngest({
  id: "payouts",
  isDev: env.INNGEST_DEV ?? false,
  ...(env.INNGEST_EVENT_KEY ? { eventKey: env.INNGEST_EVENT_KEY } : {}),
  ...(env.INNGEST_SIGNING_KEY ? { signingKey: env.INNGEST_SIGNING_KEY } : {}),
  ...(env.INNGEST_BASE_URL ? { baseUrl: env.INNGEST_BASE_URL } : {}),
});
