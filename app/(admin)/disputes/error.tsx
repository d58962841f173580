"use client";

import { useEffect } from "react";

import { RouteErrorPanel } from "@/components/shell/list/page-states";

export default function ErrorBoundary({ error, retry }: { error: unknown; retry: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return <RouteErrorPanel title="Disputes" error={error} onRetry={retry} />;
}
