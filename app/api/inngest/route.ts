import { serve } from "inngest/next";

import { functions } from "@/inngest";
import { getEnv } from "@/lib/env";
import { inngest } from "@/lib/inngest/client";
import { inngestServeOptions } from "@/lib/inngest/serve-options";

export const dynamic = "force-dynamic";
// Vercel: keep each request below the platform's function timeout.
export const maxDuration = 60;

// The registered origin is configuration, never the Host header; unsigned syncs are refused.
export const { GET, POST, PUT } = serve({ client: inngest, functions, ...inngestServeOptions(getEnv()) });
