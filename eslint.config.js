// eslint (flat config) for the JavaScript in this repository: the intercom card's ES modules, the
// browser test's page and the Node helper of the translation test. `scripts/lint` fixes what it can;
// `scripts/test` fails on any error or warning.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".venv/", ".demo/", ".cache/"] },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      curly: ["error", "multi-line"],
      eqeqeq: ["error", "always"],
      "no-implicit-coercion": ["error", { allow: ["!!"] }],
      "no-shadow": "error",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-var": "error",
      "object-shorthand": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["custom_components/**/frontend/**/*.js", "tests/**/page/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ["eslint.config.js", "tests/**/*.mjs"],
    languageOptions: { globals: globals.node },
  },
];
