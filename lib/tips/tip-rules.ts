/** Why a tip tipped at or after its booking's cancellation is rejected (addTip, cancelBooking). */
export const BOOKING_CANCELLED_TIP_REASON = "the booking was cancelled";
