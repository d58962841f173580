import NextAuth from "next-auth";

import { AUTH_BODY_TYPES, limitBody, MAX_AUTH_BODY_BYTES } from "@/lib/api/limit-body";
import { authOptions } from "@/lib/auth/options";

const handler = NextAuth(authOptions);

/**
 * next-auth reads a POST's whole body before it checks anything (CSRF token, credentials): a
 * body over 16 KB answers 413 and one sent as anything but a form or JSON 415 before it does.
 */
const POST = limitBody(handler, { limitBytes: MAX_AUTH_BODY_BYTES, contentTypes: AUTH_BODY_TYPES });

export { handler as GET, POST };
