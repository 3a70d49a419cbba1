/**
 * @packageDocumentation
 * scribe's wire types: write requests, error codes and their JSON-RPC mapping,
 * method and topic names. No I/O.
 */
export {
  WRITE_ERROR_CODES,
  RETRYABLE,
  JSON_RPC_ERROR_NUMBERS,
  isWriteErrorCode,
  assertWriteErrorCode,
  codeFromJsonRpcNumber,
  describe,
  type WriteErrorCode,
} from './error-codes.js';
export {
  WriteError,
  RemoteDriverError,
  isWriteError,
  rootCause,
  wireCauseOf,
  type WireCause,
  WRITE_ERROR_BRAND,
  type WriteErrorData,
  type WriteErrorOptions,
  type JsonRpcErrorObject,
} from './write-error.js';
export { parseWriteRequest, MAX_ID_LENGTH, type WriteMeta, type WriteRequest } from './write-request.js';
export { RPC_METHODS, ROLES, type RpcMethod, type Role, type NodeInfo, type MemberReport, type MemberInfo, type PluginInfo } from './methods.js';
export {
  CHANGE_OPS,
  HEARTBEAT_TOPIC,
  SHUTDOWN_TOPIC,
  changeTopic,
  type ChangeOp,
  type ChangeEvent,
  type HeartbeatPayload,
  type ShutdownPayload,
} from './topics.js';
export type {
  ClusterStatus,
  MemberStatus,
  StatusSample,
  FailoverRecord,
  StatusChange,
  StatusError,
  StatusEngine,
} from './cluster-status.js';
export { STATUS_ENGINES } from './cluster-status.js';
export { uuidv7 } from './uuidv7.js';
export { requestIdReusedError } from './request-id-reuse.js';
