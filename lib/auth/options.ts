import "server-only";

import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";

import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { TIMING_DUMMY_HASH, verifyPassword } from "./password";

const ZCredentials = z.object({
  email: z.string().trim().toLowerCase().email(),
  password: z.string().min(1).max(200),
});

/** Messages shown on the login page; next-auth passes a thrown Error's message through. */
export const SIGN_IN_ERRORS = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an admin to re-enable it.",
} as const;

export const authOptions: NextAuthOptions = {
  secret: getEnv().NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
  pages: { signIn: "/login" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      async authorize(raw) {
        const parsed = ZCredentials.safeParse(raw);
        if (!parsed.success) throw new Error(SIGN_IN_ERRORS.invalid);
        const { email, password } = parsed.data;

        const user = await db.adminUser.findUnique({ where: { email } });
        const ok = await verifyPassword(password, user?.passwordHash ?? TIMING_DUMMY_HASH);
        if (!user || !ok) throw new Error(SIGN_IN_ERRORS.invalid);
        if (user.disabledAt) throw new Error(SIGN_IN_ERRORS.disabled);

        await db.adminUser.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
        return { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        token.role = user.role;
        token.sessionVersion = user.sessionVersion;
      }
      return token;
    },
    session({ session, token }) {
      if (session.user && token.sub) {
        session.user.id = token.sub;
        session.user.role = token.role;
        session.user.sessionVersion = token.sessionVersion;
      }
      return session;
    },
  },
};
