// Text that is valid JSON but that PostgreSQL cannot store: the NUL character (jsonb refuses
// the escape \u0000, text columns the 0x00 byte) and an unpaired UTF-16 surrogate (an escape
// such as \ud800 on its own is not a Unicode character; jsonb refuses it). Deliveries are
// stored before anything else happens, so a body carrying either would fail at the store and
// be answered 500 on every retry. The booking platform's body is refused with a field error
// (findUnstorableText); Stripe's signed event is stored with such characters replaced
// (toStorableJson), so that it is never lost. Pure.

export type TTextIssue = { path: string; message: string };

/** With the `u` flag a well-formed surrogate pair is one code point, so only unpaired halves match \p{Cs}. */
const UNSTORABLE_CHARACTER = /\u0000|\p{Cs}/u;
const UNSTORABLE_CHARACTERS = /\u0000|\p{Cs}/gu;
const NUL = "\u0000";

/** Stands in for a character that cannot be stored, as a UTF-8 decoder does for bytes it cannot read. */
export const REPLACEMENT_CHARACTER = "\uFFFD";

/** Why PostgreSQL cannot store this text, or null when it can. */
export function unstorableTextProblem(text: string): string | null {
  if (!UNSTORABLE_CHARACTER.test(text)) return null;
  return text.includes(NUL)
    ? "must not contain the NUL character (\\u0000)"
    : "must not contain an unpaired UTF-16 surrogate (\\ud800-\\udfff without its other half)";
}

/**
 * Every string in a parsed JSON value, field names included, that PostgreSQL cannot store, as
 * `{ path, message }` with paths like "data.provider.name" (array items by index).
 */
export function findUnstorableText(value: unknown): TTextIssue[] {
  const issues: TTextIssue[] = [];
  walk(value, [], {
    text(text, path) {
      const problem = unstorableTextProblem(text);
      if (problem) issues.push({ path: pathOf(path), message: problem });
      return text;
    },
    key(key, path) {
      const problem = unstorableTextProblem(key);
      if (problem) issues.push({ path: pathOf([...path, key]), message: `field name ${problem}` });
      return key;
    },
  });
  return issues;
}

/**
 * A copy of a parsed JSON value in which every character PostgreSQL cannot store (in strings
 * and field names) is replaced by U+FFFD, with the paths of what was replaced. The value
 * itself is returned unchanged when there is nothing to replace.
 */
export function toStorableJson<T>(value: T): { value: T; replaced: string[] } {
  if (findUnstorableText(value).length === 0) return { value, replaced: [] };
  const replaced: string[] = [];
  const copy = walk(value, [], {
    text(text, path) {
      if (!unstorableTextProblem(text)) return text;
      replaced.push(pathOf(path));
      return text.replace(UNSTORABLE_CHARACTERS, REPLACEMENT_CHARACTER);
    },
    key(key, path) {
      if (!unstorableTextProblem(key)) return key;
      replaced.push(pathOf([...path, key]));
      return key.replace(UNSTORABLE_CHARACTERS, REPLACEMENT_CHARACTER);
    },
  });
  return { value: copy as T, replaced };
}

type TVisitor = {
  text(text: string, path: readonly (string | number)[]): string;
  key(key: string, path: readonly (string | number)[]): string;
};

function walk(value: unknown, path: readonly (string | number)[], visit: TVisitor): unknown {
  if (typeof value === "string") return visit.text(value, path);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index], visit));
  if (typeof value === "object" && value !== null) {
    // fromEntries defines own properties, so a field named "__proto__" stays a field.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [visit.key(key, path), walk(item, [...path, key], visit)]));
  }
  return value;
}

/** "data.provider.name"; a field name that cannot be stored is shown with U+FFFD in its place. */
function pathOf(path: readonly (string | number)[]): string {
  return path.map((part) => String(part).replace(UNSTORABLE_CHARACTERS, REPLACEMENT_CHARACTER)).join(".");
}
