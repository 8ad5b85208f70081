// `npm run demo`: what ipckit does, end to end, on this machine.
// The uppercase echo over every transport (Unix socket, TCP, raw mode, Pipe to a child, FIFO pair).
await import("./echo/run-all.js");
