/**
 * A connection URL fit for a log line or an error message: the password (in the
 * userinfo or as a `password`/`sslpassword` query parameter) replaced by `***`.
 * Every log line and message that names a server goes through this; the raw URL
 * never leaves the options it came in.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // A key=value connection string (`host=… password=…`): blank the secrets in place.
    return url.replace(/\b(password|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi, '$1=***');
  }
  if (parsed.password !== '') parsed.password = '***';
  for (const key of ['password', 'sslpassword']) {
    if (parsed.searchParams.has(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}
