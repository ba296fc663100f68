// Where a provider talks to its gateway: the WebSocket channel and the HTTP blob store live
// on the same origin, so both are derived from the one URL the operator gives.

export interface GatewayUrls {
  /** ws(s)://host[:port][/prefix]/v1/provider/connect */
  connect: string;
  /** http(s)://host[:port][/prefix], no trailing slash */
  http: string;
}

const CONNECT_PATH = "/v1/provider/connect";

/**
 * Accepts ws, wss, http or https, with or without a path prefix, and with or without the
 * connect path itself (so pasting the full channel URL works too).
 */
export function gatewayUrls(input: string): GatewayUrls {
  const url = new URL(input);
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) {
    throw new Error(`gateway URL must be ws://, wss://, http:// or https://, got ${url.protocol}`);
  }
  let path = url.pathname.replace(/\/+$/, "");
  if (path.endsWith(CONNECT_PATH)) path = path.slice(0, -CONNECT_PATH.length);
  const host = url.host;
  return {
    connect: `${secure ? "wss" : "ws"}://${host}${path}${CONNECT_PATH}`,
    http: `${secure ? "https" : "http"}://${host}${path}`,
  };
}

export function blobUrl(httpBase: string, id: string): string {
  return `${httpBase}/v1/blobs/${id}`;
}
