import { describe, expect, it } from "vitest";

import { decodeInstantPosition, encodeInstantPosition, parseIsoInstant } from "./keyset-position";

const ID = "9a9d4043-4904-4e59-9701-98e325135550";
const AT = "2026-11-24T08:49:14.836Z";

describe("parseIsoInstant", () => {
  it("reads an instant exactly as toISOString writes it", () => {
    expect(parseIsoInstant(AT)).toEqual(new Date(AT));
    expect(parseIsoInstant("0001-01-01T00:00:00.000Z")).toEqual(new Date("0001-01-01T00:00:00.000Z"));
    expect(parseIsoInstant("9999-12-31T23:59:59.999Z")).toEqual(new Date("9999-12-31T23:59:59.999Z"));
  });

  it.each([
    "2026-13-45T99:99:99.999Z",
    "2026-02-30T08:49:14.836Z",
    "2026-11-24T24:00:00.000Z",
    "2026-11-24T08:49:14Z",
    "2026-11-24T08:49:14.836+00:00",
    "2026-11-24",
    "0000-01-01T00:00:00.000Z",
    "1",
    "",
  ])("refuses %j", (text) => {
    expect(parseIsoInstant(text)).toBeNull();
  });
});

describe("instant positions", () => {
  it("round-trip, the id in lower case", () => {
    const position = encodeInstantPosition({ at: new Date(AT), id: ID });
    expect(position).toBe(`${AT}_${ID}`);
    expect(decodeInstantPosition(position)).toEqual({ at: new Date(AT), id: ID });
    expect(decodeInstantPosition(`${AT}_${ID.toUpperCase()}`)).toEqual({ at: new Date(AT), id: ID });
  });

  it.each([`2026-13-45T99:99:99.999Z_${ID}`, `${AT}_not-a-uuid`, `${AT}${ID}`, `${AT}_${ID}_x`, "yesterday", ""])("refuses %j", (raw) => {
    expect(decodeInstantPosition(raw)).toBeNull();
  });
});
