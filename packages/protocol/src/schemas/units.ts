// Metering: what a provider claims it did for a job. Standard units (SU) compare work across
// runtimes and models: 1 SU = 1e6 floating-point operations (for LLMs, 2 x parameters x tokens).
import { z } from "zod";

export const UnitsSchema = z
  .object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    standardUnits: z.number().int().nonnegative(),
  })
  .strict();
export type Units = z.infer<typeof UnitsSchema>;

/** Money is counted in nano-credits (1 credit = 1e9 nc) and travels as a decimal string. */
export const MoneySchema = z.string().regex(/^(0|[1-9][0-9]{0,30})$/, "an integer amount in nano-credits");

/**
 * The most money one ledger may hold: 10^18 nc (a billion credits). Every balance and every sum
 * of balances then fits the stores' signed 64-bit integers (about 9.2 × 10^18) with room to spare.
 */
export const MAX_SUPPLY = 10n ** 18n;

/** A positive decimal integer string of at most 10^18: what the stores' 64-bit integers hold safely. */
export function boundedCountSchema(what: string) {
  return (
    z
      .string()
      .regex(/^[1-9][0-9]{0,18}$/, `a positive integer ${what}`)
      // zod runs every check even after one fails: BigInt("1e3") would throw, a 500 for a bad request
      .refine((s) => !/^[1-9][0-9]{0,18}$/.test(s) || BigInt(s) <= MAX_SUPPLY, `at most 10^18 ${what}`)
  );
}

/** A positive amount of nano-credits that a request may move: at most MAX_SUPPLY. */
export const AmountSchema = boundedCountSchema("amount of nano-credits");
