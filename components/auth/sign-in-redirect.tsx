"use client";

import { useEffect } from "react";

import { loginUrlFor } from "./login-helpers";

/**
 * Shown by the dashboard's layout when there is no session (the layout does not know the URL;
 * each page also redirects on the server with it): sends the browser to the login page, asked
 * to come back to where it was.
 */
export function SignInRedirect() {
  useEffect(() => {
    window.location.replace(loginUrlFor(`${window.location.pathname}${window.location.search}`));
  }, []);
  return (
    <main className="flex min-h-dvh items-center justify-center px-4 text-sm text-gray-600">
      <p>
        You are signed out.{" "}
        <a href="/login" className="font-medium text-indigo-700 underline">
          Sign in
        </a>
      </p>
    </main>
  );
}
