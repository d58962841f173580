// Two runs of one scenario (a batch and its one-by-one oracle) compared as text: their ids differ.

/** A text with its ids (uuids, Stripe and test ids of the `prefixes` given) and ISO times made placeholders, to compare two runs' texts. */
export function idsNormaliser(prefixes: readonly string[]): (text: string | null | undefined) => string | null {
  const ids = [
    [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>"],
    [new RegExp(`\\b(${prefixes.join("|")})_[A-Za-z0-9_]+`, "g"), "<$1>"],
    [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<time>"],
  ] as const;
  return (text) => (text == null ? null : ids.reduce((s, [re, to]) => s.replace(re, to), text));
}
