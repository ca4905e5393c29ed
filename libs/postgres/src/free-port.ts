import { createServer } from "node:net";

/**
 * Asks the kernel for a TCP port nobody listens on. The port is only free at the moment this
 * returns, not reserved: whoever binds it next must be ready to lose a race and ask again.
 */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error(`could not read the port bound on ${host}`));
      });
    });
  });
}
