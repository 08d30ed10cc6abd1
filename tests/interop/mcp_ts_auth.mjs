// The TypeScript SDK's `auth()` orchestrator (what its HTTP transports call on a 401), with an
// OAuthClientProvider of our own, against a live server. Unlike mcp_ts_client.mjs it gets no
// `resource_metadata` hint, so it finds the protected resource metadata by the well-known URLs
// (path-inserted, then the root form, RFC 9728 §3.1).
//   auth() -> REDIRECT (discovery, registration, authorization URL) -> [the caller consents and
//   writes the redirect URL to stdin] -> auth(code) -> AUTHORIZED -> /api/me -> auth() again
//   refreshes (rotation) -> auth() with the OLD refresh token: invalid_grant, the SDK drops its
//   tokens and asks for a new authorization (REDIRECT).
//
// Usage: node mcp_ts_auth.mjs <resource server URL, e.g. http://localhost:8000/api/me> [v1|v2]
// Output: JSON lines like mcp_ts_client.mjs; raw tokens only as SHA-256 hex digests.

import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

// v1: @modelcontextprotocol/sdk; v2: @modelcontextprotocol/client, which also checks the
// metadata issuer against the discovery URL (RFC 8414 §3.3) and `iss` (RFC 9207 §2.4).
const PACKAGES = { v1: '@modelcontextprotocol/sdk/client/auth.js', v2: '@modelcontextprotocol/client' };
const REDIRECT_URL = 'http://127.0.0.1:33420/callback'; // nothing listens: the test reads the redirect
const [serverUrl, line = 'v1'] = process.argv.slice(2);
const { auth } = await import(PACKAGES[line]);

const emit = (step, data = {}) => process.stdout.write(`${JSON.stringify({ step, ...data })}\n`);
const digest = (raw) => (raw ? createHash('sha256').update(raw, 'utf8').digest('hex') : null);

const fetchFn = async (url, init = {}) => {
  const response = await fetch(url, init);
  const body = init.body instanceof URLSearchParams ? init.body : null;
  emit('http', {
    method: init.method ?? 'GET',
    path: new URL(String(url)).pathname,
    status: response.status,
    grant_type: body?.get('grant_type') ?? null,
    resource: body?.get('resource') ?? null,
  });
  return response;
};

/** The client side's storage and browser hand-off, in memory. */
class MemoryProvider {
  constructor() {
    this.saved = { clientInformation: undefined, tokens: undefined, codeVerifier: undefined };
    this.authorizationUrls = [];
    this.invalidated = [];
    this.lastState = undefined;
  }
  get redirectUrl() {
    return REDIRECT_URL;
  }
  get clientMetadata() {
    return {
      client_name: 'MCP TypeScript auth() Client',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }
  clientInformation() {
    return this.saved.clientInformation;
  }
  saveClientInformation(information) {
    this.saved.clientInformation = information;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(tokens) {
    this.saved.tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrls.push(url.href);
  }
  saveCodeVerifier(verifier) {
    this.saved.codeVerifier = verifier;
  }
  codeVerifier() {
    return this.saved.codeVerifier;
  }
  invalidateCredentials(scope) {
    this.invalidated.push(scope);
    if (scope === 'all' || scope === 'tokens') this.saved.tokens = undefined;
    if (scope === 'all' || scope === 'client') this.saved.clientInformation = undefined;
    if (scope === 'all' || scope === 'verifier') this.saved.codeVerifier = undefined;
  }
}

const apiStatus = async (accessToken) => {
  const response = await fetch(serverUrl, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: await response.json() };
};

const readLine = () =>
  new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', (line) => {
      resolve(line.trim()); // before close(), whose 'close' event would otherwise reject first
      lines.close();
    });
    lines.once('close', () => reject(new Error('stdin closed before the redirect URL arrived')));
  });

const tokenReport = (tokens) => ({
  issuer: tokens.issuer,
  token_type: tokens.token_type,
  scope: tokens.scope,
  access_token: digest(tokens.access_token),
  refresh_token: digest(tokens.refresh_token),
});

async function main() {
  const provider = new MemoryProvider();

  const first = await auth(provider, { serverUrl, fetchFn });
  emit('redirect', {
    result: first,
    url: provider.authorizationUrls.at(-1),
    client_id: provider.saved.clientInformation?.client_id,
    client_issuer: provider.saved.clientInformation?.issuer,
  });
  const callback = new URL(await readLine()).searchParams;
  emit('callback', { state_matches: callback.get('state') === provider.lastState, iss: callback.get('iss') });

  const exchanged = await auth(provider, {
    serverUrl,
    authorizationCode: callback.get('code'),
    iss: callback.get('iss') ?? undefined, // validated by v2, ignored by v1
    fetchFn,
  });
  const issued = provider.saved.tokens;
  emit('authorized', { result: exchanged, ...tokenReport(issued) });
  emit('api', { after: 'exchange', ...(await apiStatus(issued.access_token)) });

  const again = await auth(provider, { serverUrl, fetchFn });
  const refreshed = provider.saved.tokens;
  emit('refreshed', {
    result: again,
    rotated: refreshed.refresh_token !== issued.refresh_token,
    ...tokenReport(refreshed),
  });
  emit('api', { after: 'refresh', ...(await apiStatus(refreshed.access_token)) });

  // A stale copy of the first tokens (a second client process, or a thief) refreshes again.
  provider.saveTokens(issued);
  const stale = await auth(provider, { serverUrl, fetchFn });
  emit('stale_refresh', {
    result: stale,
    invalidated: provider.invalidated,
    authorization_urls: provider.authorizationUrls.length,
  });
  emit('api', { after: 'stale_refresh', ...(await apiStatus(refreshed.access_token)) });
  emit('done');
}

main().catch((error) => {
  emit('error', { name: error?.name ?? null, message: String(error?.message ?? error), error: error?.errorCode ?? null });
  process.exitCode = 1;
});
