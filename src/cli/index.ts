import { main } from "./main.js";

// A reader that went away (`skiff run ... | head`) costs the output, never the run: the run goes on and its
// phase is stored as it ends.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
  });

process.exitCode = await main(process.argv.slice(2));
