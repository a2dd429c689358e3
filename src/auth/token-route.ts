import type { FastifyPluginAsync } from 'fastify'
import { authenticateClient, type AuthenticatedClient } from './client-auth.js'
import type { AuthCore } from './core.js'
import { authorizationCodeGrant, clientCredentialsGrant, refreshTokenGrant } from './grants.js'
import { introspect, revoke } from './introspection.js'
import { formOf, noStore, OAuthError, registerOAuthHttp, required } from './oauth-http.js'

/**
 * The OAuth 2.0 endpoints a client calls directly, at the server root:
 * - POST /oauth2/token (RFC 6749 §3.2): authorization_code (+PKCE), refresh_token,
 *   client_credentials; client authentication by secret, private_key_jwt or none (public).
 * - POST /oauth2/introspect (RFC 7662) and POST /oauth2/revoke (RFC 7009).
 * Errors are RFC 6749 JSON, never OperationOutcome. Every issue and refusal is audited in the
 * client's tenant.
 */
export function tokenRoutes(core: AuthCore): FastifyPluginAsync {
  const clientDeps = { clients: core.clients, registry: core.registry, verifyAssertion: core.verifyAssertion }

  return async (app) => {
    registerOAuthHttp(app)

    app.post('/oauth2/token', async (req, reply) => {
      const form = formOf(req.body)
      const grantType = required(form, 'grant_type')
      let client: AuthenticatedClient | undefined
      try {
        client = await authenticateClient(clientDeps, req.headers.authorization, form)
        const response =
          grantType === 'authorization_code'
            ? await authorizationCodeGrant(core, client, form)
            : grantType === 'refresh_token'
              ? await refreshTokenGrant(core, client, form)
              : grantType === 'client_credentials'
                ? await clientCredentialsGrant(core, client, form)
                : unsupported(grantType)
        await core.audit.record({ tenantId: tenantOf(response.fhir_base, core), action: 'token-issued', clientId: client.client.client_id, address: req.ip, detail: `${grantType}: ${response.scope}` })
        return noStore(reply).send(response)
      } catch (err) {
        if (err instanceof OAuthError && client) {
          await core.audit.record({ tenantId: client.client.tenant_id, action: 'token-refused', clientId: client.client.client_id, address: req.ip, detail: `${grantType}: ${err.code}: ${err.message}` })
        }
        throw err
      }
    })

    app.post('/oauth2/introspect', async (req, reply) => {
      const form = formOf(req.body)
      const client = await authenticateClient(clientDeps, req.headers.authorization, form)
      if (client.method === 'none') throw new OAuthError('invalid_client', 'Introspection needs an authenticated (confidential) client')
      return noStore(reply).send(await introspect(core, client.client, required(form, 'token')))
    })

    app.post('/oauth2/revoke', async (req, reply) => {
      const form = formOf(req.body)
      const client = await authenticateClient(clientDeps, req.headers.authorization, form)
      const revoked = await revoke(core, client.client, required(form, 'token'))
      if (revoked) await core.audit.record({ tenantId: revoked.tenantId, action: 'token-revoked', clientId: client.client.client_id, address: req.ip, detail: revoked.kind })
      // RFC 7009 §2.2: 200 whether or not the token was known.
      return noStore(reply).code(200).send()
    })
  }
}

function unsupported(grantType: string): never {
  throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported; use authorization_code, refresh_token or client_credentials`)
}

const tenantOf = (fhirBase: string, core: AuthCore): string => fhirBase.slice(`${core.issuer}/fhir/`.length)
