import { ListSkeleton } from "@/components/shell/list/page-states";

export default function Loading() {
  return <ListSkeleton title="Audit log" />;
}
