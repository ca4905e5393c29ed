import { runCli } from "./program.js";

const code = await runCli(process.argv);
// Exit once the output is flushed: idle HTTP/2 sessions of the SDK would otherwise keep the process up.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
