// Parsing of numeric CLI flags that fails with a message naming the flag.
import { InvalidArgumentError } from "commander";

/** commander reports an InvalidArgumentError as a usage error, without a stack trace */
export function intFlag(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`--${name} must be an integer between ${min} and ${max}, got '${value}'`);
    return n;
  };
}

export function fail(message: string): never {
  process.stderr.write(`tessera: ${message}\n`);
  process.exit(1);
}

export function numberFlag(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`--${name} must be a number between ${min} and ${max}, got '${value}'`);
    return n;
  };
}
