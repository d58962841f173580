import { isIP } from "node:net";

/**
 * The bucket for clients whose address is unknown. Next.js gives route handlers (and so
 * next-auth's `authorize`) no socket address, and the `X-Forwarded-For` it fills in is kept
 * as the client sent it when present, so without a proxy we are told to trust, every client
 * shares this one bucket.
 */
export const DIRECT_ADDRESS = "direct";

export type TProxyTrust = {
  /** Proxies in front that append to X-Forwarded-For (TRUST_PROXY): 0 trusts no header. */
  trustedHops: number;
  /** On Vercel, whose edge overwrites x-vercel-forwarded-for and x-real-ip. */
  vercel: boolean;
};

type THeaders = Record<string, unknown> | Headers | undefined;

/**
 * The client's address for per-address sign-in limits, only from headers something we trust
 * wrote: on Vercel its own `x-vercel-forwarded-for` (then `x-real-ip`), which the platform
 * overwrites; with `trustedHops` proxies the X-Forwarded-For entry that many hops from the right
 * (the address the outermost of our proxies saw); otherwise nothing: {@link DIRECT_ADDRESS}.
 * Always a validated, normalised IP address or {@link DIRECT_ADDRESS}, never header text.
 */
export function clientAddress(headers: THeaders, trust: TProxyTrust): string {
  const header = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : headers?.[name];
    return typeof value === "string" ? value : "";
  };
  if (trust.vercel) {
    const vercelFor = header("x-vercel-forwarded-for").split(",")[0] ?? "";
    return normaliseIp(vercelFor) ?? normaliseIp(header("x-real-ip")) ?? DIRECT_ADDRESS;
  }
  if (trust.trustedHops <= 0) return DIRECT_ADDRESS;
  const hops = header("x-forwarded-for")
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  // Each trusted proxy appends the address it saw; the one the outermost saw is the client.
  const hop = hops.length >= trust.trustedHops ? hops[hops.length - trust.trustedHops] : undefined;
  return (hop !== undefined && normaliseIp(hop)) || DIRECT_ADDRESS;
}

/**
 * A valid IPv4 or IPv6 address in canonical form (IPv6 lower-case and compressed, an
 * IPv4-mapped IPv6 address as IPv4, a port or brackets removed), or null.
 */
export function normaliseIp(raw: string): string | null {
  let value = raw.trim();
  if (value.length === 0 || value.length > 64) return null;
  const withPort = /^(?:\[([^\]]+)\]|([\d.]+))(?::(\d{1,5}))?$/.exec(value);
  if (withPort && (withPort[1] !== undefined || withPort[3] !== undefined)) {
    if (withPort[3] !== undefined && Number(withPort[3]) > 65_535) return null;
    value = withPort[1] ?? withPort[2]!;
  }
  if (isIP(value) === 4) return value;
  if (isIP(value) !== 6 || value.includes("%")) return null;
  const canonical = new URL(`http://[${value}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  return canonical;
}
