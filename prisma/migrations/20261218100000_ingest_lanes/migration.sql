-- Ordered apply of webhook deliveries: the deliveries of one booking are applied one at a time,
-- oldest first, by whichever server holds the booking's lane. A lane is a lease (a crashed holder's
-- lane is taken over once it expires); the row exists only while someone holds it. A delivery whose
-- applier finds the lane held marks it dirty: the holder looks again before letting go.
CREATE TABLE "IngestLane" (
    "key" VARCHAR(300) NOT NULL,
    "token" UUID NOT NULL,
    "leasedUntil" TIMESTAMPTZ(3) NOT NULL,
    "dirty" BOOLEAN NOT NULL DEFAULT false,
    "acquiredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IngestLane_pkey" PRIMARY KEY ("key")
);
