import type { Metadata } from "next";
import { redirect } from "next/navigation";

import { AuthFrame } from "@/components/auth/auth-frame";
import { LoginForm } from "@/components/auth/login-form";
import { safeCallbackUrl } from "@/components/auth/login-helpers";
import { getCurrentUser } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function LoginPage(props: PageProps<"/login">) {
  const { callbackUrl } = await props.searchParams;
  const raw = typeof callbackUrl === "string" ? callbackUrl : undefined;
  if (await getCurrentUser()) redirect(safeCallbackUrl(raw));

  return (
    <AuthFrame title="Sign in to Payouts">
      <p className="mt-1 mb-6 text-sm text-gray-500">Use your back-office account.</p>
      <LoginForm callbackUrl={raw} />
    </AuthFrame>
  );
}
