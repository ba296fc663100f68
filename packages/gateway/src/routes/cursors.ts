// List cursors name one of the caller's own records: any other cursor is a mistake (a stale
// copy, another key's id), answered as such rather than as an empty or unrelated page.
import { InvalidRequest } from "@tessera/protocol";

export function badCursor(param: "after" | "cursor", value: string): InvalidRequest {
  return new InvalidRequest(
    `${param}: '${value}' is not one of your records; pass the last id of the previous page.`,
    param,
  );
}
