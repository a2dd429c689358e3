import type { AuthLog } from '../auth-log.js'
import { createGmailChannel, type GmailSettings } from './gmail-channel.js'
import { createTwilioChannel, type TwilioSettings } from './twilio-channel.js'

import type { Message } from './message.js'

export type { Channel, Message } from './message.js'

export interface Messenger {
  send(message: Message): Promise<void>
}

export interface MessagingSettings {
  twilio?: TwilioSettings
  gmail?: GmailSettings
}

export type { GmailSettings, TwilioSettings }

/**
 * WhatsApp and SMS through Twilio, email through the Gmail API, each with its real client
 * library. A channel without credentials writes the message (code included) to the log
 * instead, so development needs no accounts.
 */
export function createMessenger(settings: MessagingSettings, log: AuthLog): Messenger {
  const twilio = settings.twilio ? createTwilioChannel(settings.twilio) : undefined
  const gmail = settings.gmail ? createGmailChannel(settings.gmail) : undefined
  return {
    async send(message) {
      const channel = message.channel === 'email' ? gmail : twilio
      if (!channel) {
        log.info({ channel: message.channel, to: message.to, text: message.text }, `message not sent (no ${message.channel} credentials): ${message.text}`)
        return
      }
      await channel.send(message)
    },
  }
}
