"use client";

import { useSyncExternalStore } from "react";

const subscribe = () => () => {};

/**
 * False in the server render and until React has hydrated, then true. Controls that only
 * work with JavaScript (row checkboxes, the filter form's submit) stay disabled until then,
 * so an early click is not silently undone by hydration.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
