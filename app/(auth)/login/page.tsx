import type { Metadata } from "next";
import { redirect } from "next/navigation";

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
    <main className="flex min-h-dvh flex-col items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex items-center justify-center gap-2">
          <span aria-hidden className="flex size-8 items-center justify-center rounded-lg bg-indigo-600 text-sm font-bold text-white">
            P
          </span>
          <span className="text-lg font-semibold tracking-tight text-gray-900">Payouts</span>
        </div>
        <div className="rounded-xl border border-gray-200 bg-white p-6 shadow-sm sm:p-8">
          <h1 className="text-xl font-semibold tracking-tight text-gray-900">Sign in to Payouts</h1>
          <p className="mt-1 mb-6 text-sm text-gray-500">Use your back-office account.</p>
          <LoginForm callbackUrl={raw} />
        </div>
      </div>
    </main>
  );
}
