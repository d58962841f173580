-- Four-eyes for admin access: creating an admin, promoting a user to admin or enabling a
-- disabled admin is a request a second, independent admin approves (lib/users/).
CREATE TYPE "AdminAccessKind" AS ENUM ('create', 'promote', 'enable');

CREATE TABLE "AdminAccessRequest" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" "AdminAccessKind" NOT NULL,
    "userId" UUID NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "passwordHash" VARCHAR(255),
    "reason" TEXT,
    "status" "ApprovalStatus" NOT NULL DEFAULT 'pending',
    "direct" BOOLEAN NOT NULL DEFAULT false,
    "requestedById" UUID NOT NULL,
    "decidedById" UUID,
    "decisionNote" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMPTZ(3),

    CONSTRAINT "AdminAccessRequest_pkey" PRIMARY KEY ("id"),
    -- The initial password's hash is kept only while a creation waits for its approval.
    CONSTRAINT "AdminAccessRequest_password_while_pending" CHECK ("passwordHash" IS NULL OR ("kind" = 'create' AND "status" = 'pending'))
);

CREATE INDEX "AdminAccessRequest_status_createdAt_idx" ON "AdminAccessRequest"("status", "createdAt");
CREATE INDEX "AdminAccessRequest_userId_status_idx" ON "AdminAccessRequest"("userId", "status");
-- One pending request per account, and per new email.
CREATE UNIQUE INDEX "AdminAccessRequest_one_pending_per_user" ON "AdminAccessRequest"("userId") WHERE "status" = 'pending';
CREATE UNIQUE INDEX "AdminAccessRequest_one_pending_per_email" ON "AdminAccessRequest"("email") WHERE "status" = 'pending' AND "kind" = 'create';

ALTER TABLE "AdminAccessRequest" ADD CONSTRAINT "AdminAccessRequest_requestedById_fkey" FOREIGN KEY ("requestedById") REFERENCES "AdminUser"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "AdminAccessRequest" ADD CONSTRAINT "AdminAccessRequest_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "AdminUser"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
