export { IpcError, type IpcErrorCode } from "./errors.js";
export { backend, capabilities, diagnostics, type BackendName, type Diagnostics, type Feature } from "./backend.js";
export {
  SharedMemory,
  type SharedMemoryCreateOptions,
  type SharedMemoryFromFileOptions,
  type SharedMemoryOpenOptions,
} from "./shared-memory.js";
export {
  MessageQueue,
  type MessageData,
  type MessageQueueAttributes,
  type MessageQueueMessage,
  type MessageQueueOpenOptions,
  type MessageQueueSendOptions,
  type WaitOptions,
} from "./message-queue.js";
export {
  SysVMessageQueue,
  type SysVKey,
  type SysVMessage,
  type SysVMessageQueueOpenOptions,
  type SysVMessageQueueStats,
  type SysVReceiveOptions,
  type SysVSendOptions,
} from "./sysv-queue.js";
