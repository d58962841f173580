/** Pretty-printed JSON in a scrollable, monospaced block. */
export function JsonView({ value, label, className = "" }: { value: unknown; label: string; className?: string }) {
  const text = value === null || value === undefined ? "null" : JSON.stringify(value, null, 2);
  return (
    <pre
      aria-label={label}
      tabIndex={0}
      className={`max-h-96 overflow-auto rounded-md border border-gray-200 bg-gray-50 p-3 font-mono text-xs leading-relaxed whitespace-pre text-gray-800 ${className}`}
    >
      {text}
    </pre>
  );
}
