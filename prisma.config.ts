import { defineConfig } from "prisma/config";

// Prisma 7 does not load .env; DATABASE_URL may be unset for `prisma generate`.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
    seed: "npm run db:seed",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/payouts",
  },
});
