// Row ids are uuids: one check for every place that takes an id from outside (a route segment, a
// search box, a cursor, a Stripe object's metadata). Pure: no I/O, no server imports.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` can name a row (PostgreSQL refuses anything else as a uuid). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
