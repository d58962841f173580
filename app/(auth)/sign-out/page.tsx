import type { Metadata } from "next";

import { AuthFrame } from "@/components/auth/auth-frame";
import { SignOutConfirm } from "@/components/auth/sign-out-confirm";

export const metadata: Metadata = { title: "Sign out" };

/** next-auth's sign-out page (`pages.signOut`), branded. */
export default function SignOutPage() {
  return (
    <AuthFrame title="Sign out of Payouts?">
      <p className="mt-1 text-sm text-gray-500">You will need your email and password to come back.</p>
      <SignOutConfirm />
    </AuthFrame>
  );
}
