// A real OpenID Provider for tests/oidc_interop.rs: panva's oidc-provider (OpenID Certified),
// pinned by package-lock.json, issuing client-credentials access tokens as JWTs (RFC 9068,
// `typ: at+jwt`) for two resource servers. The Rust test starts it, restarts it with another
// key set to rotate its keys, and kills it.
//
// node provider.mjs --port N --keys DIR --kids k2,k1 [--jwks-max-age SECONDS]
//
//   --port          0 for any free port of 127.0.0.1; the same port again on a restart, so
//                   the issuer stays the same.
//   --keys          where each key's private JWK is kept (DIR/<kid>.json), created on first
//                   use, so a key keeps its identity across restarts.
//   --kids          the published keys, in order; the first one signs new tokens.
//   --jwks-max-age  `Cache-Control: public, max-age=SECONDS` on the JWKS (none by default,
//                   as oidc-provider sends none).
//
// It prints `listening <port>` once it serves, and `served <path>` for each discovery or JWKS
// request (paths only: nothing it prints carries a token or a secret). It exits when its
// standard input closes, so it never outlives the test that started it.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    keys: { type: 'string' },
    kids: { type: 'string' },
    'jwks-max-age': { type: 'string' },
  },
});
if (!args.keys || !args.kids) {
  console.error('usage: node provider.mjs --port N --keys DIR --kids k2,k1 [--jwks-max-age S]');
  process.exit(2);
}

// The client and the two resource servers the tests use. The secret is a test value.
const CLIENT = {
  client_id: 'interop-client',
  client_secret: 'interop-client-secret-for-tests-only',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'invoices:read invoices:write',
};
const RESOURCE_SERVERS = new Set(['urn:authgate:interop-api', 'urn:authgate:other-api']);

// An RSA key per kid, kept in DIR/<kid>.json (RS256 is what providers sign with by default).
function privateJwk(kid) {
  const file = path.join(args.keys, `${kid}.json`);
  if (fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const configuration = {
  clients: [CLIENT],
  scopes: ['invoices:read', 'invoices:write'],
  // Test values: no cookie is ever set (no interactive login), and tokens live 5 minutes.
  cookies: { keys: ['authgate-interop-cookie-key-for-tests-only'] },
  ttl: { ClientCredentials: 300 },
  jwks: { keys: args.kids.split(',').map(privateJwk) },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Every token names its resource server explicitly (`resource=`).
      defaultResource: () => undefined,
      getResourceServerInfo(_ctx, resourceIndicator) {
        if (!RESOURCE_SERVERS.has(resourceIndicator)) {
          throw new errors.InvalidTarget();
        }
        return {
          audience: resourceIndicator,
          scope: 'invoices:read invoices:write',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const server = http.createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
  const maxAge = args['jwks-max-age'];
  if (maxAge !== undefined) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/jwks') {
        ctx.set('cache-control', `public, max-age=${maxAge}`);
      }
    });
  }
  const handle = provider.callback();
  server.on('request', (req, res) => {
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    if (pathname === '/jwks' || pathname === '/.well-known/openid-configuration') {
      console.log(`served ${pathname}`);
    }
    handle(req, res);
  });
  console.log(`listening ${port}`);
});

// The test holds the other end of standard input: when it ends (or dies), so does this.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
