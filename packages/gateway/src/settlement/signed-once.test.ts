import { NODE_AUTH_HEADERS, NODE_AUTH_WINDOW_MS } from "@tessera/protocol";
import { expect, it } from "vitest";
import { SignedOnce } from "./signed-once.js";

const req = (signature: string, time: number) => ({
  [NODE_AUTH_HEADERS.signature]: signature,
  [NODE_AUTH_HEADERS.time]: String(time),
});

it("takes a signature once, refuses what was signed before the start, and forgets signatures past the window", () => {
  const start = 1_000_000;
  const once = new SignedOnce(start);
  expect(once.take(req("a", start + 1), start + 2)).toBe("new");
  expect(once.take(req("a", start + 1), start + 3)).toBe("replayed");
  expect(once.take(req("b", start + 1), start + 3)).toBe("new");
  expect(once.take(req("c", start - 1), start + 3)).toBe("before-start");
  // once "a" and "b" are out of the window they could not verify anyway: they are not kept
  const later = start + 2 + NODE_AUTH_WINDOW_MS;
  expect(once.take(req("d", later), later)).toBe("new");
  expect([...(once as unknown as { seen: Map<string, number> }).seen.keys()]).toEqual(["d"]);
});
