import { describe, expect, it } from "vitest";

import { ValidationError } from "@/lib/errors";

import { parseBookingWebhook, paymentIdsOf } from "./booking-webhook-schema";

const completed = (data: Record<string, unknown>) => ({
  id: "evt_1",
  type: "booking.completed",
  createdAt: "2026-11-24T10:00:00Z",
  data: {
    bookingId: "bk_1",
    completedAt: "2026-11-24T09:58:12Z",
    currency: "EUR",
    providerShare: 8000,
    provider: { id: "prov_1", name: "Ana", email: "ana@example.com" },
    ...data,
  },
});

describe("the Stripe payment a booking or tip names", () => {
  it("takes a charge as the charge, and a PaymentIntent as the PaymentIntent, in either field", () => {
    expect(paymentIdsOf({ chargeId: "ch_1" })).toEqual({ stripeChargeId: "ch_1", stripePaymentIntentId: null });
    expect(paymentIdsOf({ chargeId: "pi_1" })).toEqual({ stripeChargeId: null, stripePaymentIntentId: "pi_1" });
    expect(paymentIdsOf({ paymentIntentId: "pi_1" })).toEqual({ stripeChargeId: null, stripePaymentIntentId: "pi_1" });
    expect(paymentIdsOf({ chargeId: "ch_1", paymentIntentId: "pi_1" })).toEqual({ stripeChargeId: "ch_1", stripePaymentIntentId: "pi_1" });
    expect(paymentIdsOf({})).toEqual({ stripeChargeId: null, stripePaymentIntentId: null });
  });

  it("accepts paymentIntentId on a booking and a tip", () => {
    const booking = parseBookingWebhook(completed({ paymentIntentId: "pi_3QxYz" }));
    expect(booking.type === "booking.completed" && booking.data.paymentIntentId).toBe("pi_3QxYz");
    const tip = parseBookingWebhook({
      id: "evt_2",
      type: "tip.created",
      createdAt: "2026-11-24T10:00:00Z",
      data: { tipId: "tip_1", bookingId: "bk_1", amount: 500, currency: "EUR", createdAt: "2026-11-24T10:00:00Z", chargeId: "pi_3QxYz" },
    });
    expect(tip.type === "tip.created" && paymentIdsOf(tip.data)).toEqual({ stripeChargeId: null, stripePaymentIntentId: "pi_3QxYz" });
  });

  it("refuses a paymentIntentId that is not a PaymentIntent, or one that contradicts chargeId, naming the field", () => {
    for (const [data, message] of [
      [{ paymentIntentId: "ch_1" }, "must be a Stripe PaymentIntent id (pi_…)"],
      [{ chargeId: "pi_1", paymentIntentId: "pi_2" }, "names another PaymentIntent than chargeId"],
    ] as const) {
      let error: unknown;
      try {
        parseBookingWebhook(completed(data));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toMatchObject({ issues: [{ path: "data.paymentIntentId", message }] });
    }
  });
});
