/** @type {import('jest').Config} */
// The example app's browser tests (`npm run test:e2e` at the root). They drive Debian's Chromium
// through playwright-core against the compiled app (dist/), started as a child process per storage.
module.exports = {
  rootDir: __dirname,
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  testTimeout: 60000,
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2023" },
        module: { type: "commonjs" },
        sourceMaps: "inline",
      },
    ],
  },
};
