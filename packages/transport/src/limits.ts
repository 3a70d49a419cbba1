/**
 * Default limits and timings of the transport, as named constants so that callers
 * and documentation refer to one value.
 */

/** Largest JSON-RPC message (bytes of the JSON frame) the server processes: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Hard cap on one incoming ZeroMQ message (`maxFrameBytes`): 64 MiB. Messages
 * above `maxMessageBytes` and up to this cap are read and answered INVALID_REQUEST;
 * a message above it is never allocated: libzmq closes the sender's connection and
 * no reply can be sent. The cap keeps one peer from making the primary allocate
 * gigabytes. {@link RpcClient} refuses to send a request above it.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Largest JSON-RPC batch (entries in the array) the server processes. */
export const DEFAULT_MAX_BATCH_LENGTH = 1000;

/** Deepest nesting of arrays and objects the server accepts in one message. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** How long {@link RpcClient.call} waits for a reply unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** How long {@link RpcServer.close} waits for in-flight handlers and queued replies. */
export const DEFAULT_CLOSE_GRACE_MS = 1000;
