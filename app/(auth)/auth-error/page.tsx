import type { Metadata } from "next";
import Link from "next/link";

import { authErrorText } from "@/components/auth/auth-error-text";
import { AuthFrame } from "@/components/auth/auth-frame";

export const metadata: Metadata = { title: "Sign-in problem" };

/** next-auth's error page (`pages.error`), branded: says what went wrong in words, never the raw code. */
export default async function AuthErrorPage(props: PageProps<"/auth-error">) {
  const { error } = await props.searchParams;
  return (
    <AuthFrame title="Could not sign you in">
      <p role="alert" className="mt-2 text-sm text-gray-700">
        {authErrorText(typeof error === "string" ? error : undefined)}
      </p>
      <Link
        href="/login"
        className="mt-6 inline-block rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-xs hover:bg-indigo-500"
      >
        Back to sign in
      </Link>
    </AuthFrame>
  );
}
