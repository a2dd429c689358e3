import type { Message } from './message.js'

export interface GmailSettings {
  clientId: string
  clientSecret: string
  refreshToken: string
  /** The From address (the mailbox the refresh token belongs to). */
  sender: string
  /** Replaces https://gmail.googleapis.com/ (a local fake in tests). */
  apiUrl?: string
  /** Replaces https://oauth2.googleapis.com/token. */
  tokenUrl?: string
}

/**
 * Email through the Gmail API (users.messages.send) with the official `googleapis` client and an
 * OAuth2 refresh token. The library is large, so it is loaded on first send.
 */
export function createGmailChannel(settings: GmailSettings) {
  let gmail: Promise<{ send(raw: string): Promise<void> }> | undefined
  const load = async () => {
    const { google } = await import('googleapis')
    const auth = new google.auth.OAuth2({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      ...(settings.tokenUrl ? { endpoints: { oauth2TokenUrl: settings.tokenUrl } } : {}),
    })
    auth.setCredentials({ refresh_token: settings.refreshToken })
    const api = google.gmail({ version: 'v1', auth, ...(settings.apiUrl ? { rootUrl: settings.apiUrl.replace(/\/?$/, '/') } : {}) })
    return {
      async send(raw: string) {
        await api.users.messages.send({ userId: 'me', requestBody: { raw } })
      },
    }
  }
  return {
    async send(message: Message) {
      gmail ??= load()
      await (await gmail).send(rfc822(settings.sender, message))
    },
  }
}

/** A minimal RFC 5322 message, base64url as the Gmail API wants it; headers cannot be injected. */
function rfc822(from: string, message: Message): string {
  const clean = (v: string) => v.replace(/[\r\n]+/g, ' ')
  const subject = `=?UTF-8?B?${Buffer.from(clean(message.subject)).toString('base64')}?=`
  const text = [
    `From: ${clean(from)}`,
    `To: ${clean(message.to)}`,
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(message.text).toString('base64'),
  ].join('\r\n')
  return Buffer.from(text).toString('base64url')
}
