// Seeds of the CI slice that break an invariant because of a bug found and not fixed yet. Each
// is named with what it shows; the slice reports them on every run instead of failing, and
// fails when one of them passes (the bug is fixed: take it out of this list). Any other seed
// that breaks an invariant fails the slice. Keep this list short and empty it.
export const OPEN_FINDINGS: Readonly<Record<number, string>> = {};
