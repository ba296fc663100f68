import { describe, expect, it } from "vitest";
import { scoreProvider } from "./score.js";
import type { ProviderView } from "./types.js";

function provider(price: number, reputation: number, latencyMs: number | null, maxConcurrency = 4): ProviderView {
  return {
    id: "p",
    capabilities: {
      runtimes: ["wasm"],
      models: [],
      pricePerUnit: price,
      region: "eu-west",
      maxConcurrency,
      throughput: 1,
    },
    running: 0,
    reputation,
    latencyMs,
    draining: false,
    online: true,
  };
}

const ctx = { minPrice: 10, maxPrice: 20, bestLatencyMs: 100 };

describe("scoreProvider (lower is better)", () => {
  it("prefers the cheaper provider", () => {
    expect(scoreProvider(provider(10, 0.5, 100), 0, ctx)).toBeLessThan(scoreProvider(provider(20, 0.5, 100), 0, ctx));
  });

  it("prefers the less loaded provider, relative to its capacity", () => {
    const p = provider(10, 0.5, 100, 4);
    expect(scoreProvider(p, 1, ctx)).toBeLessThan(scoreProvider(p, 3, ctx));
    expect(scoreProvider(provider(10, 0.5, 100, 8), 2, ctx)).toBeLessThan(
      scoreProvider(provider(10, 0.5, 100, 2), 1, ctx),
    );
  });

  it("prefers the more reputable and the faster provider", () => {
    expect(scoreProvider(provider(15, 0.9, 100), 0, ctx)).toBeLessThan(scoreProvider(provider(15, 0.4, 100), 0, ctx));
    expect(scoreProvider(provider(15, 0.5, 100), 0, ctx)).toBeLessThan(scoreProvider(provider(15, 0.5, 400), 0, ctx));
  });

  it("scores an unmeasured provider's latency as average, between fastest and slowest", () => {
    const unmeasured = scoreProvider(provider(15, 0.5, null), 0, ctx);
    expect(unmeasured).toBeGreaterThan(scoreProvider(provider(15, 0.5, 100), 0, ctx));
    expect(unmeasured).toBeLessThan(scoreProvider(provider(15, 0.5, 10_000), 0, ctx));
  });

  it("ignores price when every candidate charges the same", () => {
    const same = { minPrice: 10, maxPrice: 10, bestLatencyMs: null };
    expect(scoreProvider(provider(10, 1, null), 0, same)).toBeCloseTo(0.5 * 0.5);
  });
});
