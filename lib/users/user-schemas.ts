// Request bodies of the user-management API; no server imports, so forms share them.
import { z } from "zod";

import { AdminRole } from "@/generated/prisma/enums";
import { ZReason } from "@/lib/audit/reason";
import { storableText } from "@/lib/http/storable-text";

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

const reason = ZReason;

const role = z.enum(AdminRole, "Choose viewer, operator or admin.");

export const ZCreateUser = z
  .object({
    email: storableText().trim().toLowerCase().max(320).email("Enter an email address."),
    name: storableText().trim().min(1, "Enter a name.").max(255),
    role,
    password: z
      .string()
      .min(MIN_PASSWORD_LENGTH, `The password must be at least ${MIN_PASSWORD_LENGTH} characters.`)
      .max(MAX_PASSWORD_LENGTH, `The password must be at most ${MAX_PASSWORD_LENGTH} characters.`),
    /** Optional for a new user; kept in the audit log. */
    reason: reason.optional(),
  })
  .strict();

export type TCreateUser = z.infer<typeof ZCreateUser>;

/** One change per request: a new role, or disabling / enabling; always with a reason. */
export const ZUpdateUser = z.union([z.object({ role, reason }).strict(), z.object({ disabled: z.boolean(), reason }).strict()]);

export type TUpdateUser = z.infer<typeof ZUpdateUser>;

/** Approving or rejecting an admin access request: always with a reason. */
export const ZAdminAccessDecision = z.object({ reason }).strict();

export type TAdminAccessDecisionBody = z.infer<typeof ZAdminAccessDecision>;
