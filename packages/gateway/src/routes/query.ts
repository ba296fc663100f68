// Whole numbers in query strings. z.coerce.number() read "" as 0 and "0x10", "1e3" or " 7 " as
// numbers, so a typo or an odd client encoding silently asked for something else.
import { z } from "zod";

export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,16}$/, "must be a whole number in decimal digits")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
