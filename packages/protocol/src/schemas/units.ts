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
