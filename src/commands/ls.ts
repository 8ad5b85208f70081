import { inventory } from "../inventory.js";

/** `ipckit ls [--json]`: the IPC objects that exist, who uses them, and whether anyone still does. */
export function runLs(args: readonly string[]): number {
  const { objects, notes } = inventory();
  if (args.includes("--json")) {
    console.log(JSON.stringify({ objects, notes }, null, 2));
    return 0;
  }
  const rows = objects.map((o) => [
    o.kind,
    o.name,
    String(o.size),
    `0${o.mode.toString(8)}`,
    String(o.uid),
    o.pids.length > 0 ? o.pids.join(",") : "-",
    o.inUse ? "in use" : "unused",
  ]);
  const header = ["KIND", "NAME", "BYTES", "MODE", "UID", "PIDS", "STATE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  if (rows.length === 0) console.log("(no IPC objects)");
  for (const note of notes) console.log(`note: ${note}`);
  return 0;
}
