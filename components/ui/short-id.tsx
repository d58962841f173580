/** The first 8 characters of a uuid, monospaced, with the full id on hover. */
export function ShortId({ id }: { id: string }) {
  return (
    <span title={id} className="font-mono text-xs text-gray-600">
      {id.slice(0, 8)}
    </span>
  );
}
