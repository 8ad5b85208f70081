export { IpcError, type IpcErrorCode } from "./errors.js";
export { backend, capabilities, diagnostics, type BackendName, type Diagnostics, type Feature } from "./backend.js";
export {
  SharedMemory,
  type SharedMemoryCreateOptions,
  type SharedMemoryFromFileOptions,
  type SharedMemoryOpenOptions,
} from "./shared-memory.js";
export { getCodec, encode, decode, type Codec, type CodecName } from "./codec.js";
export {
  Connection,
  type ConnectionOptions,
  type AuthOptions,
  type Framing,
  type ReceiveOptions,
} from "./connection.js";
export { Listener, listen, connect, type ListenOptions, type ConnectOptions } from "./listener.js";
export { Pipe, spawnWithConnection, CONNECTION_FD_ENV, type SpawnWithConnectionOptions } from "./pipe.js";
export { Fifo, FifoReader, FifoWriter, type FifoCreateOptions, type FifoOpenOptions } from "./fifo.js";
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
export { Channel, type ChannelCreateOptions, type ChannelData } from "./channel.js";
export {
  IpcEvent,
  Mutex,
  Semaphore,
  type LockResult,
  type SemaphoreCreateOptions,
  type SyncCreateOptions,
} from "./sync.js";
export { Queue, type QueueCodecName, type QueueCreateOptions } from "./queue.js";
