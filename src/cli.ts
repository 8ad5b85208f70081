#!/usr/bin/env node
import process from "node:process";
import { runBench } from "./commands/bench.js";
import { runDoctor } from "./commands/doctor.js";
import { runLs } from "./commands/ls.js";
import { runRm } from "./commands/rm.js";

type Command = (args: readonly string[]) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  bench: { run: (args) => runBench([...args]), help: "compare the transports on this machine with Node's built-in IPC (--quick, --json)" },
  doctor: { run: runDoctor, help: "backend, capabilities and kernel limits, with advice (--json for machines)" },
  ls: { run: runLs, help: "the IPC objects that exist, the live processes using them (--json)" },
  rm: { run: runRm, help: "remove named objects: ipckit rm <shm|mq|sysv> <name or key>..." },
};

function usage(): string {
  const lines = ["usage: ipckit <command> [options]", "", "commands:"];
  for (const [name, { help }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)} ${help}`);
  return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`ipckit: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

process.exitCode = await main(process.argv.slice(2));
