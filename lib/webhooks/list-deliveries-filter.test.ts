import { describe, expect, it } from "vitest";

import { decodeDeliveryCursor, encodeDeliveryCursor, ZDeliveryFilter } from "./list-deliveries-filter";

const ID = "9a9d4043-4904-4e59-9701-98e325135550";
const POSITION = `2026-11-24T08:49:14.836Z_${ID}`;

describe("ZDeliveryFilter", () => {
  it("reads the page's form and the API's parameters alike, empty fields as not given", () => {
    expect(ZDeliveryFilter.parse({ status: "", source: "", type: "", booking: "", after: "", before: "", cursor: "", limit: "" })).toEqual({
      limit: 50,
    });
    expect(
      ZDeliveryFilter.parse({
        status: "failed",
        source: "stripe",
        type: " charge.refunded ",
        booking: "bk_1",
        limit: "7",
        before: POSITION,
      }),
    ).toEqual({
      status: "failed",
      source: "stripe",
      type: "charge.refunded",
      booking: "bk_1",
      limit: 7,
      before: POSITION,
    });
  });

  it("takes the API's `cursor` as `after`", () => {
    expect(ZDeliveryFilter.parse({ cursor: POSITION })).toEqual({ limit: 50, after: POSITION });
  });

  it.each([
    [{ status: "bogus" }],
    [{ source: "paypal" }],
    [{ limit: "0" }],
    [{ limit: "101" }],
    [{ after: "nope" }],
    [{ cursor: `2026-02-30T08:49:14.836Z_${ID}` }],
    [{ before: `2026-11-24T08:49:14Z_${ID}` }],
    [{ after: POSITION, before: POSITION }],
    [{ cursor: POSITION, after: POSITION }],
    [{ page: "2" }],
  ])("refuses %j", (input) => {
    expect(ZDeliveryFilter.safeParse(input).success).toBe(false);
  });
});

describe("delivery cursors", () => {
  it("round-trip a position, the id in lower case", () => {
    const receivedAt = new Date("2026-11-24T08:49:14.836Z");
    expect(encodeDeliveryCursor({ receivedAt, id: ID })).toBe(POSITION);
    expect(decodeDeliveryCursor(`2026-11-24T25:49:14.836Z_${ID}`)).toBeNull();
    expect(decodeDeliveryCursor(`2026-11-24T08:49:14.836Z_${ID.toUpperCase()}`)).toEqual({ receivedAt, id: ID });
  });
});
