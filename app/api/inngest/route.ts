import { serve } from "inngest/next";

import { functions } from "@/inngest";
import { inngest } from "@/lib/inngest/client";

export const dynamic = "force-dynamic";
// Vercel: keep each request below the platform's function timeout.
export const maxDuration = 60;

export const { GET, POST, PUT } = serve({ client: inngest, functions });
