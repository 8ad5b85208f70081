export { IpcError, type IpcErrorCode } from "./errors.js";
export { backend, capabilities, diagnostics, type BackendName, type Diagnostics, type Feature } from "./backend.js";
export {
  SharedMemory,
  type SharedMemoryCreateOptions,
  type SharedMemoryFromFileOptions,
  type SharedMemoryOpenOptions,
} from "./shared-memory.js";
export { Channel, type ChannelCreateOptions, type ChannelData, type SyncWaitOptions, type WaitOptions } from "./channel.js";
export {
  IpcEvent,
  Mutex,
  Semaphore,
  type LockResult,
  type SemaphoreCreateOptions,
  type SyncCreateOptions,
} from "./sync.js";
export { Queue, type QueueCodecName, type QueueCreateOptions } from "./queue.js";
