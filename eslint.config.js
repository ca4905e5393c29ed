// Lint rules held by CI (issue 15): typescript-eslint's type-checked rules for what the compiler
// cannot see (a promise nobody awaits, a promise where a callback is expected, a switch that misses
// an enum member), type-only imports marked as such.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "build/**", "**/dist/**", "libs/proto/src/gen/**", "clients/**", "**/*.js", "**/*.mjs", "**/*.cjs", "helm/**", "deploy/**"],
  },
  {
    files: ["**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
    },
  },
);
