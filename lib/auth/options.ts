import "server-only";

import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";

import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { clientAddress, SIGN_IN_ERRORS, signInWithPassword, throttledMessage } from "./sign-in";

export const authOptions: NextAuthOptions = {
  secret: getEnv().NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
  pages: { signIn: "/login", signOut: "/sign-out", error: "/auth-error" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      // next-auth passes a thrown Error's message to the login page, which shows it.
      async authorize(raw, req) {
        const result = await signInWithPassword(db, { email: raw?.email, password: raw?.password, address: clientAddress(req.headers) });
        if (result.ok) return result.user;
        throw new Error(result.reason === "throttled" ? throttledMessage(result.retryAfterSeconds) : SIGN_IN_ERRORS[result.reason]);
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
