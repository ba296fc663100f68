import { describe, expect, it } from "vitest";
import { blobUrl, gatewayUrls } from "./urls.js";

describe("gatewayUrls", () => {
  it("derives the channel and the http base from a ws URL", () => {
    expect(gatewayUrls("ws://127.0.0.1:8787")).toEqual({
      connect: "ws://127.0.0.1:8787/v1/provider/connect",
      http: "http://127.0.0.1:8787",
    });
  });

  it("maps wss to https, keeps a path prefix and accepts the full channel URL", () => {
    expect(gatewayUrls("wss://gw.example.org/tessera/v1/provider/connect")).toEqual({
      connect: "wss://gw.example.org/tessera/v1/provider/connect",
      http: "https://gw.example.org/tessera",
    });
    expect(gatewayUrls("https://gw.example.org/")).toEqual({
      connect: "wss://gw.example.org/v1/provider/connect",
      http: "https://gw.example.org",
    });
  });

  it("refuses other schemes", () => {
    expect(() => gatewayUrls("ftp://x")).toThrow(/ws:\/\//);
  });

  it("names blobs under /v1/blobs", () => {
    expect(blobUrl("http://h:1", "ab")).toBe("http://h:1/v1/blobs/ab");
  });
});
