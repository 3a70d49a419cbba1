/**
 * Which endpoints a node may bind or connect without CURVE. Other hosts and other
 * local users are not trusted, so an endpoint they can reach needs the cluster's
 * CURVE keys, or an explicit, documented `allowInsecure`.
 */
import { isLoopbackHost, parseTcpEndpoint } from '@scribe/transport';

/** The stable code of {@link InsecureEndpointError}. */
export const INSECURE_ENDPOINT = 'ERR_SCRIBE_INSECURE_ENDPOINT';

/**
 * Thrown by `openNode` for an endpoint that others could reach (tcp beyond loopback,
 * or an abstract `ipc://@name` socket) when neither CURVE keys nor `allowInsecure`
 * were given. Nothing was bound or opened.
 */
export class InsecureEndpointError extends TypeError {
  /** Always {@link INSECURE_ENDPOINT}. */
  readonly code = INSECURE_ENDPOINT;
  /** The option that named the endpoint, e.g. `endpoints.router`. */
  readonly option: string;
  readonly endpoint: string;

  constructor(option: string, endpoint: string, reason: string) {
    super(
      `'${option}' ${endpoint} ${reason}; give the cluster CURVE keys ('curve', from scribe keygen), ` +
        `use the default owner-only ipc sockets, or set 'allowInsecure: true' if every process that can reach it is trusted`,
    );
    this.name = 'InsecureEndpointError';
    this.option = option;
    this.endpoint = endpoint;
  }
}

/** Who can reach an endpoint without authentication. */
export type EndpointExposure = 'owner' | 'local-users' | 'network';

/**
 * `owner` for a path-based ipc socket (protected by its directory), `local-users`
 * for abstract ipc sockets and loopback tcp (any local user can connect), `network`
 * for tcp on any other host.
 */
export function endpointExposure(endpoint: string): EndpointExposure {
  if (endpoint.startsWith('ipc://')) return endpoint.startsWith('ipc://@') ? 'local-users' : 'owner';
  const tcp = parseTcpEndpoint(endpoint);
  return tcp !== undefined && isLoopbackHost(tcp.host) ? 'local-users' : 'network';
}

/**
 * Throws {@link InsecureEndpointError} for an endpoint beyond this machine (tcp on a
 * non-loopback host) or an abstract ipc socket, unless `curve` or `allowInsecure`
 * is set. Returns the endpoints that stay open to every local user (loopback tcp
 * without CURVE), for the caller to warn about.
 */
export function checkEndpointPolicy(
  endpoints: { router: string; pub: string } | undefined,
  security: { curve?: unknown; allowInsecure?: boolean },
): string[] {
  if (endpoints === undefined) return [];
  const secured = security.curve !== undefined;
  const exposed: string[] = [];
  for (const key of ['router', 'pub'] as const) {
    const endpoint = endpoints[key];
    const exposure = endpointExposure(endpoint);
    if (exposure === 'owner' || secured) continue;
    if (security.allowInsecure !== true) {
      if (endpoint.startsWith('ipc://@')) {
        throw new InsecureEndpointError(`endpoints.${key}`, endpoint, 'is an abstract ipc socket, which every local user can connect to');
      }
      if (exposure === 'network') {
        throw new InsecureEndpointError(`endpoints.${key}`, endpoint, 'would accept connections from other machines');
      }
    }
    exposed.push(endpoint);
  }
  return exposed;
}
