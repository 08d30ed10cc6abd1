// The official MCP TypeScript SDK's OAuth client functions (@modelcontextprotocol/sdk,
// client/auth.js, unmodified) against a live server, step by step:
//   401 challenge -> protected resource metadata (RFC 9728) -> authorization server metadata
//   (RFC 8414) -> dynamic registration (RFC 7591) -> authorization URL (PKCE S256, RFC 8707
//   resource) -> [the caller logs in and consents, then writes the redirect URL to stdin] ->
//   code exchange -> /api/me -> refresh (rotation) -> refresh with the OLD refresh token, which
//   must fail with invalid_grant (OAuth 2.1 §4.3.1) and take the whole grant with it.
//
// Usage: node mcp_ts_client.mjs <resource server URL, e.g. http://localhost:8000/api/me>
//                               <token_endpoint_auth_method: none | client_secret_post | ...>
//                               [client metadata document URL: use it as client_id instead of
//                                registering, when the server advertises CIMD support]
// Output: one JSON object per line, {"step": ..., ...}; tests/interop/test_mcp_typescript.py
// reads them. Raw tokens are never printed: a token appears as its SHA-256 hex digest, which is
// how the server stores it (tokens/secrets.py), so the test can find it in the database.

import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
  registerClient,
  selectResourceURL,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';

const REDIRECT_URL = 'http://127.0.0.1:33419/callback'; // nothing listens: the test reads the redirect
const [serverUrl, authMethod = 'none', clientMetadataUrl] = process.argv.slice(2);

const emit = (step, data = {}) => process.stdout.write(`${JSON.stringify({ step, ...data })}\n`);
const digest = (raw) => (raw ? createHash('sha256').update(raw, 'utf8').digest('hex') : null);

// Every request the SDK makes, logged with its outcome (the SDK accepts a fetch function).
const fetchFn = async (url, init = {}) => {
  const response = await fetch(url, init);
  const body = init.body instanceof URLSearchParams ? init.body : null;
  emit('http', {
    method: init.method ?? 'GET',
    path: new URL(String(url)).pathname,
    status: response.status,
    grant_type: body?.get('grant_type') ?? null,
    resource: body?.get('resource') ?? null,
    basic_auth: new Headers(init.headers).get('Authorization')?.startsWith('Basic ') ?? false,
  });
  return response;
};

const apiStatus = async (accessToken) => {
  const response = await fetch(serverUrl, {
    headers: accessToken ? { Authorization: `Bearer ${accessToken}` } : {},
  });
  return { status: response.status, body: await response.json(), challenge: response.headers.get('WWW-Authenticate') };
};

const oauthErrorOf = async (promise) => {
  try {
    await promise;
    return { failed: false };
  } catch (error) {
    return { failed: true, name: error.name, error: error.errorCode ?? null, message: error.message };
  }
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

async function main() {
  // 1. The resource answers 401 and names its metadata (RFC 9728 §5.1).
  const challenged = await fetch(serverUrl);
  const { resourceMetadataUrl, error: challengeError } = extractWWWAuthenticateParams(challenged);
  emit('challenge', {
    status: challenged.status,
    resource_metadata: resourceMetadataUrl?.href ?? null,
    error: challengeError ?? null,
  });

  // 2. Protected resource metadata, then the authorization server it names.
  const prm = await discoverOAuthProtectedResourceMetadata(serverUrl, { resourceMetadataUrl }, fetchFn);
  emit('protected_resource', prm);
  const resource = await selectResourceURL(serverUrl, {}, prm);
  const asUrl = prm.authorization_servers[0];
  const metadata = await discoverAuthorizationServerMetadata(asUrl, { fetchFn });
  emit('authorization_server', { metadata });

  // 3. A Client ID Metadata Document URL as client_id (as the SDK's auth() does when the
  // server supports it), else dynamic registration asking for the scopes the resource lists.
  const scope = prm.scopes_supported.join(' ');
  const useDocument = Boolean(clientMetadataUrl) && metadata.client_id_metadata_document_supported === true;
  if (clientMetadataUrl && !useDocument) {
    throw new Error('the server does not advertise client_id_metadata_document_supported');
  }
  const clientInformation = useDocument ? { client_id: clientMetadataUrl } : await registerClient(asUrl, {
    metadata,
    clientMetadata: {
      client_name: 'MCP TypeScript Interop Client',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: authMethod,
    },
    scope,
    fetchFn,
  });
  emit('registered', {
    metadata_document: useDocument,
    client_id: clientInformation.client_id,
    token_endpoint_auth_method: clientInformation.token_endpoint_auth_method,
    has_client_secret: Boolean(clientInformation.client_secret),
  });

  // 4. The authorization URL; the caller opens it, consents and sends back the redirect.
  const state = randomBytes(16).toString('base64url');
  const { authorizationUrl, codeVerifier } = await startAuthorization(asUrl, {
    metadata,
    clientInformation,
    redirectUrl: REDIRECT_URL,
    scope,
    state,
    resource,
  });
  emit('authorization_url', { url: authorizationUrl.href });
  const callback = new URL(await readLine());
  const params = callback.searchParams;
  emit('callback', {
    redirect_matches: `${callback.origin}${callback.pathname}` === REDIRECT_URL,
    state_matches: params.get('state') === state,
    iss: params.get('iss'),
    // RFC 9207 §2.4: simple string comparison with the metadata issuer (SDK v1 does not check).
    iss_matches: params.get('iss') === metadata.issuer,
    error: params.get('error'),
    has_code: params.has('code'),
  });
  if (!params.has('code') || params.get('state') !== state || params.get('iss') !== metadata.issuer) {
    throw new Error('the authorization response was not accepted');
  }

  // 5. Code exchange (PKCE verifier, resource indicator), then the API.
  const tokens = await exchangeAuthorization(asUrl, {
    metadata,
    clientInformation,
    authorizationCode: params.get('code'),
    codeVerifier,
    redirectUri: REDIRECT_URL,
    resource,
    fetchFn,
  });
  emit('tokens', {
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    scope: tokens.scope,
    access_token: digest(tokens.access_token),
    refresh_token: digest(tokens.refresh_token),
  });
  emit('api', { after: 'exchange', ...(await apiStatus(tokens.access_token)) });

  // 6. Refresh: a new refresh token replaces the old one.
  const refreshed = await refreshAuthorization(asUrl, {
    metadata,
    clientInformation,
    refreshToken: tokens.refresh_token,
    resource,
    fetchFn,
  });
  emit('refreshed', {
    token_type: refreshed.token_type,
    scope: refreshed.scope,
    access_token: digest(refreshed.access_token),
    refresh_token: digest(refreshed.refresh_token),
    rotated: refreshed.refresh_token !== tokens.refresh_token,
  });
  emit('api', { after: 'refresh', ...(await apiStatus(refreshed.access_token)) });

  // 7. The old refresh token again: invalid_grant, and the grant dies with it.
  emit('reuse', await oauthErrorOf(
    refreshAuthorization(asUrl, { metadata, clientInformation, refreshToken: tokens.refresh_token, resource, fetchFn }),
  ));
  emit('api', { after: 'reuse', ...(await apiStatus(refreshed.access_token)) });
  emit('refresh_after_reuse', await oauthErrorOf(
    refreshAuthorization(asUrl, { metadata, clientInformation, refreshToken: refreshed.refresh_token, resource, fetchFn }),
  ));
  emit('done');
}

main().catch((error) => {
  emit('error', { name: error?.name ?? null, message: String(error?.message ?? error), error: error?.errorCode ?? null });
  process.exitCode = 1;
});
