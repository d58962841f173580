import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([
    ".next/**",
    ".next-*/**",
    "playwright-report-*/**",
    "generated/**",
    "node_modules/**",
    "next-env.d.ts",
    "test-results/**",
    "playwright-report/**",
  ]),
  {
    rules: {
      // Configuration is read and validated in lib/env.ts only.
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read configuration from '@/lib/env' instead." },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // No module imports itself through others: a cycle makes load order decide what is defined.
      "import/no-cycle": ["error", { ignoreExternal: true }],
      // One import order: node and packages, then the app's own ("@/…"), then relative; a blank line between.
      "import/order": [
        "error",
        {
          groups: ["builtin", "external", "internal", ["parent", "sibling", "index"]],
          pathGroups: [{ pattern: "@/**", group: "internal" }],
          pathGroupsExcludedImportTypes: ["builtin"],
          "newlines-between": "always",
          alphabetize: { order: "asc", caseInsensitive: true },
        },
      ],
    },
  },
  {
    // Tooling that runs outside the app (and the env module itself) may read process.env.
    files: ["lib/env.ts", "scripts/**", "e2e/**", "test/**", "*.config.*", "**/*.test.ts"],
    rules: { "no-restricted-properties": "off" },
  },
]);
