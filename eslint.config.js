// Typed lint: typescript-eslint's type-checked rules over every TypeScript file in the project.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "runs/",
      "build/",
      "dist/",
      "data/",
      "**/*.js",
      "**/*.cjs",
      // Consumer projects built against the installed tarball (test/package/consumers.test.ts).
      "test/package/fixtures/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-non-null-assertion": "off",
      eqeqeq: ["error", "always", { null: "ignore" }],
      // Braces on every multi-line body (prettier breaks long one-line ifs over several lines).
      curly: ["error", "multi-line"],
    },
  },
);
