import { describe, expect, it } from "vitest";

import { clientAddress, DIRECT_ADDRESS, normaliseIp } from "./client-address";

const NOT_TRUSTED = { trustedHops: 0, vercel: false };
const ONE_PROXY = { trustedHops: 1, vercel: false };
const TWO_PROXIES = { trustedHops: 2, vercel: false };
const VERCEL = { trustedHops: 0, vercel: true };

describe("clientAddress", () => {
  it("without TRUST_PROXY ignores every forwarding header a caller can forge: one direct bucket", () => {
    const forged = { "x-forwarded-for": "203.0.113.9", "x-real-ip": "198.51.100.4", "x-vercel-forwarded-for": "192.0.2.1" };
    expect(clientAddress(forged, NOT_TRUSTED)).toBe(DIRECT_ADDRESS);
    expect(clientAddress({}, NOT_TRUSTED)).toBe(DIRECT_ADDRESS);
    expect(clientAddress(undefined, NOT_TRUSTED)).toBe(DIRECT_ADDRESS);
  });

  it("behind one trusted proxy takes the hop that proxy appended (the rightmost), not what the client wrote before it", () => {
    expect(clientAddress({ "x-forwarded-for": "1.1.1.1, 2.2.2.2 ,203.0.113.7" }, ONE_PROXY)).toBe("203.0.113.7");
    // X-Real-IP is not what a generic proxy is known to overwrite: ignored.
    expect(clientAddress({ "x-real-ip": "198.51.100.4", "x-forwarded-for": "203.0.113.7" }, ONE_PROXY)).toBe("203.0.113.7");
  });

  it("behind two trusted proxies takes the second hop from the right", () => {
    expect(clientAddress({ "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2" }, TWO_PROXIES)).toBe("203.0.113.7");
    // Fewer hops than proxies: the header did not come through them; nothing is believed.
    expect(clientAddress({ "x-forwarded-for": "203.0.113.7" }, TWO_PROXIES)).toBe(DIRECT_ADDRESS);
  });

  it("refuses header text that is not an IP address (never stored or shown raw)", () => {
    for (const bad of [
      "<script>alert(1)</script>",
      "unknown",
      " , ",
      "203.0.113.256",
      "1.2.3",
      "a".repeat(100),
      "fe80::1%eth0",
      "01.2.3.4",
    ]) {
      expect(clientAddress({ "x-forwarded-for": bad }, ONE_PROXY)).toBe(DIRECT_ADDRESS);
    }
  });

  it("on Vercel uses the platform's own headers (which it overwrites), not X-Forwarded-For", () => {
    expect(clientAddress({ "x-vercel-forwarded-for": "203.0.113.7", "x-forwarded-for": "6.6.6.6" }, VERCEL)).toBe("203.0.113.7");
    expect(clientAddress({ "x-real-ip": "2001:DB8::1", "x-forwarded-for": "6.6.6.6" }, VERCEL)).toBe("2001:db8::1");
    expect(clientAddress({ "x-forwarded-for": "6.6.6.6" }, VERCEL)).toBe(DIRECT_ADDRESS);
  });

  it("reads a Fetch Headers object too", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.7" }), ONE_PROXY)).toBe("203.0.113.7");
  });
});

describe("normaliseIp", () => {
  it("returns IPv4 as is, IPv6 lower-case and compressed, IPv4-mapped IPv6 as IPv4, without brackets or ports", () => {
    expect(normaliseIp(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(normaliseIp("203.0.113.7:51234")).toBe("203.0.113.7");
    expect(normaliseIp("2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(normaliseIp("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(normaliseIp("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(normaliseIp("::1")).toBe("::1");
  });

  it("refuses anything else", () => {
    for (const bad of ["", "localhost", "203.0.113.7.1", "2001:db8:::1", "[::1", "1.2.3.4/24", "1.2.3.4:99999"]) {
      expect(normaliseIp(bad)).toBeNull();
    }
  });
});
