// Zod 4 compiles object parsers with `new Function` when it may, and finds out whether it may
// by trying once. Under the pages' Content-Security-Policy (no 'unsafe-eval') that try is
// blocked and reported as a violation in every browser that parses a form or a filter. Zod's
// `jitless` mode parses without eval and never tries. Imported once, by the root client
// component (app/providers.tsx), before any schema parses in the browser.
import { z } from "zod";

z.config({ jitless: true });
