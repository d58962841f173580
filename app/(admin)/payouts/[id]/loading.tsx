import { PayoutDetailSkeleton } from "@/components/payout-detail/payout-detail-skeleton";

export default function Loading() {
  return <PayoutDetailSkeleton />;
}
