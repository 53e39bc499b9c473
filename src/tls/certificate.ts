import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedCertificate {
  cert: string;
  key: string;
  subject: string;
  notAfter: string;
  fingerprint256: string;
}

/**
 * Reads a PEM certificate (chain) and its private key, and checks they parse and
 * belong together, so a half-written renewal is refused with a clear reason
 * rather than served.
 */
export function loadCertificate({ certFile, keyFile }: TlsFiles): LoadedCertificate {
  const cert = readPem(certFile, "--tls-cert");
  const key = readPem(keyFile, "--tls-key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`--tls-cert ${certFile} is not a PEM certificate: ${(error as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new Error(`--tls-key ${keyFile} is not a PEM private key: ${(error as Error).message}`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new Error(`--tls-key ${keyFile} does not belong to the certificate in ${certFile}`);
  return { cert, key, subject: x509.subject.replaceAll("\n", ", "), notAfter: new Date(x509.validTo).toISOString(), fingerprint256: x509.fingerprint256 };
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
