import "server-only";

import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";

import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { revokeSession, SESSION_MAX_AGE_SECONDS } from "./admin-sessions";
import { clientAddress, type TProxyTrust } from "./client-address";
import { SIGN_IN_ERRORS, signInWithPassword, throttledMessage } from "./sign-in";

/** Which proxy headers to believe for the client's address (TRUST_PROXY, or Vercel's own). */
export function proxyTrust(): TProxyTrust {
  const env = getEnv();
  return { trustedHops: env.TRUST_PROXY, vercel: env.VERCEL === "1" };
}

export const authOptions: NextAuthOptions = {
  secret: getEnv().NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  // next-auth v4 does not derive the token's own expiry from session.maxAge (it stays 30 days):
  // a token copied from the cookie must not outlive the session either.
  jwt: { maxAge: SESSION_MAX_AGE_SECONDS },
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
        const userAgent = req.headers?.["user-agent"];
        const result = await signInWithPassword(db, {
          email: raw?.email,
          password: raw?.password,
          address: clientAddress(req.headers, proxyTrust()),
          userAgent: typeof userAgent === "string" ? userAgent : null,
        });
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
        token.sid = user.sessionId;
      }
      return token;
    },
    session({ session, token }) {
      if (session.user && token.sub) {
        session.user.id = token.sub;
        session.user.role = token.role;
        session.user.sessionVersion = token.sessionVersion;
        session.user.sessionId = token.sid;
      }
      return session;
    },
  },
  events: {
    // In JWT mode next-auth passes the decoded token of the session being signed out: end it
    // on the server too, so a copy of the cookie stops working.
    async signOut({ token }) {
      if (typeof token?.sid === "string") await revokeSession(db, token.sid, "sign_out");
    },
  },
};
