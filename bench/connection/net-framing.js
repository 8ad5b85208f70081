// The baseline: Node `net` with the same wire format as ipckit (4-byte big-endian length, then
// the bytes), written the way a careful application would: one write per small frame, a
// header + payload write for large ones, chunks joined once per frame on receipt.

export function sendFrame(socket, payload) {
  if (payload.length <= 65536) {
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32BE(payload.length, 0);
    frame.set(payload, 4);
    return socket.write(frame);
  }
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(payload.length, 0);
  socket.cork();
  socket.write(header);
  const ok = socket.write(payload);
  socket.uncork();
  return ok;
}

export function onFrames(socket, onMessage) {
  let chunks = [];
  let buffered = 0;
  let need = -1;
  socket.on("data", (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (need < 0) {
        if (buffered < 4) return;
        let head = chunks[0].length >= 4 ? chunks[0] : Buffer.concat(chunks);
        if (head !== chunks[0]) chunks = [head];
        need = head.readUInt32BE(0);
        chunks[0] = head.subarray(4);
        buffered -= 4;
      }
      if (buffered < need) return;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
      const message = all.subarray(0, need);
      const rest = all.subarray(need);
      buffered -= need;
      need = -1;
      chunks = rest.length > 0 ? [rest] : [];
      onMessage(message);
    }
  });
}
