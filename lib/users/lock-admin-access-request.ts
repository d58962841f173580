import "server-only";

import type { Tx } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";

import { adminAccessRequestInclude, type TAdminAccessRequestRow } from "./admin-access-rules";

/** Locks one admin access request until the transaction ends (404 when there is none). */
export async function lockAdminAccessRequest(tx: Tx, requestId: string): Promise<TAdminAccessRequestRow> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text FROM "AdminAccessRequest" WHERE "id" = ${requestId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError("Admin access request", requestId);
  return tx.adminAccessRequest.findUniqueOrThrow({ where: { id: requestId }, include: adminAccessRequestInclude });
}
