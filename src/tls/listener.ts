import type { Serve, Server } from "bun";
import { errorFields, type Logger } from "../log/logger.ts";
import { loadCertificate, type LoadedCertificate, type TlsFiles } from "./certificate.ts";

/**
 * The listening socket: plain HTTP, or HTTPS/WSS from PEM files that SIGHUP
 * re-reads. Bun cannot swap a running server's certificate (`reload` ignores
 * `tls`), so a reload starts a second server on the same port (SO_REUSEPORT)
 * with the new certificate and stops the old one from accepting; the old one's
 * open connections and websockets carry on until they close. Publishing goes to
 * both meanwhile, so relayed frames reach sockets on either.
 */
export class Listener<T> {
  private current: Server<T>;
  private readonly draining = new Set<Server<T>>();

  constructor(
    private readonly options: Serve.Options<T, string>,
    private readonly tls: TlsFiles | undefined,
    private readonly log: Logger,
  ) {
    const loaded = tls && loadCertificate(tls);
    this.current = this.serve(options.port, loaded);
    if (loaded) log.info("TLS certificate loaded", certificateFields(loaded));
  }

  get server(): Server<T> {
    return this.current;
  }

  get secure(): boolean {
    return this.tls !== undefined;
  }

  /** Bytes sent (0: nobody listens), over the current server and any still draining. */
  publish(topic: string, data: string | Uint8Array): number {
    let sent = this.current.publish(topic, data);
    if (this.draining.size > 0) for (const old of this.draining) sent += Math.max(0, old.publish(topic, data));
    return sent;
  }

  subscriberCount(topic: string): number {
    let count = this.current.subscriberCount(topic);
    if (this.draining.size > 0) for (const old of this.draining) count += old.subscriberCount(topic);
    return count;
  }

  /** Re-reads the certificate files; on any failure keeps serving the current one. */
  reloadTls(): boolean {
    if (!this.tls) {
      this.log.warn("SIGHUP: no --tls-cert and --tls-key given, nothing to reload");
      return false;
    }
    let next: Server<T>;
    let loaded: LoadedCertificate;
    try {
      loaded = loadCertificate(this.tls);
      next = this.serve(this.current.port, loaded);
    } catch (error) {
      this.log.error("TLS reload failed; still serving the previous certificate", errorFields(error));
      return false;
    }
    const old = this.current;
    this.current = next;
    this.draining.add(old);
    void old.stop(false).finally(() => this.draining.delete(old));
    this.log.info("TLS certificate reloaded", certificateFields(loaded));
    return true;
  }

  async stop(closeActiveConnections: boolean): Promise<void> {
    await Promise.all([this.current, ...this.draining].map((s) => s.stop(closeActiveConnections)));
  }

  private serve(port: Serve.Options<T, string>["port"], loaded: LoadedCertificate | undefined): Server<T> {
    if (!loaded) return Bun.serve<T>(this.options as Serve.Options<T, never>);
    return Bun.serve<T>({ ...this.options, port, reusePort: true, tls: { cert: loaded.cert, key: loaded.key } } as Serve.Options<T, never>);
  }
}

function certificateFields(c: LoadedCertificate) {
  return { subject: c.subject, notAfter: c.notAfter, sha256: c.fingerprint256 };
}
