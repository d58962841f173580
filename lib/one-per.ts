/**
 * One value per key object (a database client), made on first use and kept while the key lives:
 * the process's coalesced callers of a database (lib/coalesce.ts, lib/together.ts) and its write gate.
 */
export function onePer<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key)!;
  };
}
