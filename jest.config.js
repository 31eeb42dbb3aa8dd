/** @type {import('jest').Config} */
const swc = [
  "@swc/jest",
  {
    jsc: {
      parser: { syntax: "typescript", decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: "es2023",
    },
    module: { type: "commonjs" },
    sourceMaps: "inline",
  },
];

const common = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": swc },
  globalSetup: "<rootDir>/test/support/globalSetup.ts",
  globalTeardown: "<rootDir>/test/support/globalTeardown.ts",
};

module.exports = {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    { ...common, displayName: "storages", testMatch: ["<rootDir>/test/storages/**/*.test.ts"] },
    { ...common, displayName: "entities", testMatch: ["<rootDir>/test/entities/**/*.test.ts"] },
  ],
};
