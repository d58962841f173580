// Runs before each integration test file: gives the file its own copy of the migrated
// template database and points DATABASE_URL at it before any app module is imported.
import { afterAll, inject } from "vitest";

import { databaseUrl, dropDatabase, withAdminClient } from "./databases";
import { startInngestReceiver, type TInngestReceiver } from "./inngest-receiver";

declare global {
  var inngestReceiver: TInngestReceiver;
}

const template = inject("templateDatabase");
const name = `${template}_f${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

await withAdminClient((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
process.env.DATABASE_URL = databaseUrl(name);
process.env.TEST_DATABASE_NAME = name;

// Events the app sends go to a local receiver standing in for the Inngest dev server.
globalThis.inngestReceiver = await startInngestReceiver();
process.env.INNGEST_DEV = "1";
process.env.INNGEST_BASE_URL = globalThis.inngestReceiver.url;

afterAll(async () => {
  const { db } = await import("@/lib/db");
  await db.$disconnect();
  await dropDatabase(name);
  await globalThis.inngestReceiver.stop();
});
