import type { Metadata, Viewport } from "next";
import { connection } from "next/server";

import "./globals.css";

import { Providers } from "./providers";

export const metadata: Metadata = {
  title: { default: "Payouts", template: "%s · Payouts" },
  description: "Payout back office for two-sided marketplaces on Stripe Connect.",
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: "#f9fafb",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request, so Next can put this response's CSP nonce (proxy.ts) on its
  // scripts; a page prerendered at build time would carry scripts without one, and the
  // policy would block them.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-dvh bg-gray-50 font-sans text-gray-900 antialiased">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
