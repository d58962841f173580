/** The branded frame of the sign-in, sign-out and sign-in error pages. */
export function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
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
          <h1 className="text-xl font-semibold tracking-tight text-gray-900">{title}</h1>
          {children}
        </div>
      </div>
    </main>
  );
}
