/**
 * Rows PostgreSQL sends as JSON (a model's columns aggregated with json_agg, to read several kinds
 * of row in one statement), read back as the ORM reads them: JSON has no dates, so each of the
 * model's DateTime fields, named in `dateFields` (dateFieldsOf checks that none is left out), is
 * made a Date again. Strings, numbers, booleans, enums (their names) and nulls are as JSON has them.
 */
export function rowsFromJson<T>(value: unknown, dateFields: readonly (keyof T & string)[]): T[] {
  const rows: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (!Array.isArray(rows)) throw new Error(`Expected a JSON array of rows, got ${typeof rows}.`);
  return rows.map((row: Record<string, unknown>) => {
    const read: Record<string, unknown> = { ...row };
    for (const field of dateFields) {
      const at = read[field];
      if (at !== null && at !== undefined) read[field] = new Date(at as string);
    }
    return read as T;
  });
}

/** The keys of T whose values are dates (DateTime fields, nullable or not). */
export type TDateKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends Date ? K : never }[keyof T] & string;

/**
 * A model's DateTime fields, checked complete by the compiler: `dateFieldsOf<Tip>()(["tippedAt", …])`
 * does not compile while a DateTime field of Tip is missing from the list.
 */
export function dateFieldsOf<T>() {
  return <const K extends readonly TDateKeys<T>[]>(
    fields: K & ([TDateKeys<T>] extends [K[number]] ? unknown : { missing: Exclude<TDateKeys<T>, K[number]> }),
  ): readonly TDateKeys<T>[] => fields;
}
