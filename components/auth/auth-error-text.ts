// What next-auth's error codes (`/auth-error?error=…`) mean for the person who sees them. Pure.

/** The sentence for an error code; unknown codes (or none) get the generic one. */
export function authErrorText(code: string | null | undefined): string {
  switch (code) {
    case "Configuration":
      return "Sign-in is not configured correctly on the server. Ask an admin to check the server's settings.";
    case "AccessDenied":
      return "This account may not sign in. Ask an admin to check it is enabled.";
    case "Verification":
      return "The sign-in link has expired or was already used. Sign in again.";
    case "SessionRequired":
      return "Sign in to see that page.";
    default:
      return "Something went wrong while signing in. Sign in again; if it keeps happening, ask an admin.";
  }
}
