import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: new URL(".", import.meta.url).pathname,
    include: ["**/*.test.ts"],
    exclude: ["runtime/**", "node_modules/**"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has 2 cores; cross-process tests measure nothing but still need CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
