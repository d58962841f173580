// Formats integer minor-unit amounts (cents, yen, …) for display. The conversion to a
// decimal string is done on digits, never with floating-point division, so every
// amount that fits in a safe integer prints exactly.
//
// How many digits the stored integer has after the decimal point follows Stripe, as the
// rest of the app does (lib/money/money.ts): 0 for zero-decimal currencies (JPY, KRW, …),
// 3 for three-decimal ones (KWD, BHD, …), else 2 — including ISK, which Intl shows with no
// decimals but Stripe counts in hundredths. Intl then prints the currency its own way.
import { isZeroDecimal } from "./money";

const formatters = new Map<string, Intl.NumberFormat>();

function currencyFormatter(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency });
    formatters.set(key, formatter);
  }
  return formatter;
}

const minorDigits = new Map<string, number>();

/** Digits after the decimal point in a stored amount: USD 2 (1234 = 12.34), JPY 0, KWD 3. */
export function currencyMinorDigits(currency: string): number {
  const code = currency.toUpperCase();
  let digits = minorDigits.get(code);
  if (digits === undefined) {
    // Asked once per currency: resolvedOptions() builds a new object on every call.
    if (isZeroDecimal(code)) digits = 0;
    else digits = currencyFormatter(code, "en-US").resolvedOptions().maximumFractionDigits === 3 ? 3 : 2;
    minorDigits.set(code, digits);
  }
  return digits;
}

/** "-1234" with 2 digits -> "-12.34"; "5" with 2 digits -> "0.05"; "5000" with 0 digits -> "5000". */
function minorToDecimalString(amountMinor: number, digits: number): string {
  const sign = amountMinor < 0 ? "-" : "";
  const magnitude = Math.abs(amountMinor).toString();
  if (digits === 0) return `${sign}${magnitude}`;
  const padded = magnitude.padStart(digits + 1, "0");
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * Formats an amount in the currency's minor unit: formatMoney(1234, "USD") -> "$12.34",
 * formatMoney(5000, "JPY") -> "¥5,000".
 */
export function formatMoney(amountMinor: number, currency: string, locale = "en-US"): string {
  if (!Number.isSafeInteger(amountMinor)) {
    throw new RangeError(`formatMoney expects a safe integer amount in minor units, got ${amountMinor}.`);
  }
  const code = currency.toUpperCase();
  const formatter = currencyFormatter(code, locale);
  // Intl.NumberFormat formats decimal strings exactly (no conversion to a double).
  return formatter.format(minorToDecimalString(amountMinor, currencyMinorDigits(code)) as Intl.StringNumericLiteral);
}
