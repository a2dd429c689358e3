import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Local stand-ins for the Twilio Messages API and the Gmail API (plus Google's token endpoint),
 * on this machine, so the real `twilio` and `googleapis` clients are exercised end to end.
 */
export interface SentMessage {
  api: 'twilio' | 'gmail'
  to: string
  from: string
  body: string
}

export async function startFakeMessaging(): Promise<{ url: string; sent: SentMessage[]; close(): Promise<void> }> {
  const sent: SentMessage[] = []
  const server: Server = createServer((req, res) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()))
    req.on('end', () => {
      const url = req.url ?? ''
      if (req.method === 'POST' && /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/.test(url)) {
        const form = new URLSearchParams(raw)
        sent.push({ api: 'twilio', to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '' })
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: 'SM00000000000000000000000000000000', status: 'queued', to: form.get('To'), from: form.get('From'), body: form.get('Body') }))
      } else if (req.method === 'POST' && url.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'fake-google-token', expires_in: 3600, token_type: 'Bearer' }))
      } else if (req.method === 'POST' && url.startsWith('/gmail/v1/users/me/messages/send')) {
        const message = Buffer.from((JSON.parse(raw) as { raw: string }).raw, 'base64url').toString('utf8')
        const [head = '', body = ''] = message.split('\r\n\r\n')
        const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(head)?.[1] ?? ''
        sent.push({ api: 'gmail', to: header('To'), from: header('From'), body: Buffer.from(body, 'base64').toString('utf8') })
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'm1', threadId: 't1' }))
      } else {
        res.writeHead(404).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, sent, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
