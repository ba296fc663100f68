// The wire protocol version. A provider whose hello names another version is refused at
// connect, so that a gateway never misreads messages from an incompatible daemon.
export const PROTOCOL_VERSION = 1;
