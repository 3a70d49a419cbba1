/** Thrown by {@link RpcServer.bind} when a socket cannot bind; names the socket and the endpoint. */
export class BindError extends Error {
  override readonly name = 'BindError';
  /** The system error code when known (`EADDRINUSE`, `EACCES`, `EINVAL`…), else `EBIND`. */
  readonly code: string;
  /** The endpoint that could not be bound. */
  readonly endpoint: string;
  /** Which of the server's sockets failed. */
  readonly socket: 'ROUTER' | 'PUB';

  constructor(socket: 'ROUTER' | 'PUB', endpoint: string, code: string, reason: string, cause?: unknown) {
    super(`bind ${socket} to ${endpoint}: ${reason}`, cause === undefined ? undefined : { cause });
    this.socket = socket;
    this.endpoint = endpoint;
    this.code = code;
  }
}
