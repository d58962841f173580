// The test message request's body (nothing to give); no server imports, so the client shares it.
import { z } from "zod";

export const ZTestNotification = z.object({}).strict();

export type TTestNotificationBody = z.infer<typeof ZTestNotification>;
