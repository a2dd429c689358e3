import twilio from 'twilio'
import type { Message } from './message.js'

export interface TwilioSettings {
  accountSid: string
  authToken: string
  /** Sender for SMS, E.164. */
  smsFrom: string
  /** Sender for WhatsApp, E.164 (sent as `whatsapp:+...`). */
  whatsappFrom?: string
  /** Replaces https://api.twilio.com (a local fake in tests, a proxy in some deployments). */
  apiUrl?: string
}

/**
 * SMS and WhatsApp through the official `twilio` client (Messages API). The client's hosts are
 * fixed, so an `apiUrl` is honoured by a RequestClient that rewrites each request's origin.
 */
export function createTwilioChannel(settings: TwilioSettings) {
  const httpClient = settings.apiUrl ? new RedirectingRequestClient(settings.apiUrl) : undefined
  const client = twilio(settings.accountSid, settings.authToken, httpClient ? { httpClient } : {})
  return {
    async send(message: Message) {
      const isWhatsapp = message.channel === 'whatsapp'
      const from = isWhatsapp ? settings.whatsappFrom : settings.smsFrom
      if (!from) throw new Error(`No Twilio sender configured for ${message.channel}`)
      await client.messages.create({
        from: isWhatsapp ? `whatsapp:${from}` : from,
        to: isWhatsapp ? `whatsapp:${message.to}` : message.to,
        body: message.text,
      })
    },
  }
}

class RedirectingRequestClient extends twilio.RequestClient {
  constructor(private readonly origin: string) {
    super()
  }

  override request<TData>(opts: Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0]) {
    const uri = new URL(opts.uri)
    const target = new URL(this.origin)
    uri.protocol = target.protocol
    uri.host = target.host
    return super.request<TData>({ ...opts, uri: uri.href } as typeof opts & { data?: TData })
  }
}
