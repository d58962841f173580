// Labelled form controls for list filters, styled alike.
import { useId } from "react";

export const inputClass =
  "block w-full rounded-md border border-gray-300 bg-white px-2.5 py-1.5 text-sm text-gray-900 shadow-xs placeholder:text-gray-400 focus:border-indigo-500 focus:ring-1 focus:ring-indigo-500 focus:outline-none";

export const primaryButtonClass =
  "inline-flex items-center justify-center rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500 disabled:opacity-60";

export const secondaryButtonClass =
  "inline-flex items-center justify-center rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50 disabled:opacity-60";

export function Field({
  label,
  className = "",
  children,
}: {
  label: string;
  className?: string;
  children: (id: string) => React.ReactNode;
}) {
  const id = useId();
  return (
    <div className={`min-w-36 flex-1 basis-40 space-y-1 ${className}`}>
      <label htmlFor={id} className="block text-xs font-medium text-gray-600">
        {label}
      </label>
      {children(id)}
    </div>
  );
}
