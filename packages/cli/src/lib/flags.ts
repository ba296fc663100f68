// Parsing of numeric CLI flags that fails with a message naming the flag.
export function intFlag(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be an integer between ${min} and ${max}, got '${value}'`);
    return n;
  };
}

export function fail(message: string): never {
  process.stderr.write(`tessera: ${message}\n`);
  process.exit(1);
}
