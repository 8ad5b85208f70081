import { diagnostics } from "../backend.js";
import { kernelLimits, type Limit } from "../limits.js";

function formatValue(limit: Limit): string {
  if (limit.value === null) return "unknown";
  if (limit.value === Number.POSITIVE_INFINITY) return "unlimited";
  if (limit.unit !== "bytes") return `${limit.value} ${limit.unit}`;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = limit.value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** `ipckit doctor [--json]`: what works here and what to change. Exit code 0 unless the facts could not be read. */
export function runDoctor(args: readonly string[]): number {
  const facts = diagnostics();
  const limits = kernelLimits();
  if (args.includes("--json")) {
    const json = { ...facts, limits: limits.map((l) => ({ ...l, value: l.value === Number.POSITIVE_INFINITY ? "unlimited" : l.value })) };
    console.log(JSON.stringify(json, null, 2));
    return 0;
  }
  const out: string[] = [];
  out.push(`ipckit doctor — ${facts.runtime} on ${facts.platform}-${facts.arch}`);
  out.push(`backend: ${facts.backend} (requested: ${facts.requested})${facts.bindingVersion ? `, binding ${facts.bindingVersion}` : ""}`);
  if (facts.externalBuffers === false) {
    out.push("this runtime forbids external ArrayBuffers (Electron >= 21 or a V8 sandbox): shared memory is unavailable");
  }
  if (facts.loadError !== null) {
    out.push(`the native binding did not load: ${facts.problem ?? "see the causes below"}`);
    for (const cause of facts.loadError) out.push(`  ${cause.split("\n")[0]}`);
    out.push("  advice: install the platform package for this system (see README, Troubleshooting), or keep using the socket backend");
  }
  out.push("capabilities:");
  for (const [feature, ok] of Object.entries(facts.capabilities)) out.push(`  ${ok ? "yes" : "no "}  ${feature}`);
  if (limits.length > 0) {
    out.push("kernel limits:");
    for (const l of limits) {
      out.push(`  ${l.low ? "LOW" : "ok "}  ${l.name}: ${formatValue(l)}`);
      if (l.advice !== null) out.push(`        advice: ${l.advice}`);
    }
  }
  console.log(out.join("\n"));
  return 0;
}
