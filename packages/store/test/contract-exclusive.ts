// Contract, part 8: openStore({ exclusive: true }), the gateway's open: one holder per database,
// refused with DatabaseHeld while it lives; other opens (tests, tools) are not affected.
import { expect, it } from "vitest";
import { DatabaseHeld, openStore } from "../src/index.js";
import type { Harness } from "./contract.js";

export function exclusiveContract(h: Harness): void {
  it("refuses a second exclusive open of a database until the first closes", async () => {
    const first = await openStore(h.location, { exclusive: true });
    try {
      const refused = await openStore(h.location, { exclusive: true }).then(
        async (s) => {
          await s.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(DatabaseHeld);
      expect((refused as DatabaseHeld).code).toBe("database_held");
      expect((refused as Error).message).toMatch(/^another gateway holds this database/);
      // the holder and the plain open beside it both still read and write
      await first.createConsumer({ id: "c-held", name: "held", createdAt: 1 });
      expect((await h.store.getConsumer("c-held"))?.name).toBe("held");
    } finally {
      await first.close();
    }
    const next = await openStore(h.location, { exclusive: true });
    expect((await next.getConsumer("c-held"))?.name).toBe("held");
    await next.close();
  });
}
