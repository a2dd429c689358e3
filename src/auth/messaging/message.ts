/** Where one-time codes and reset links go. */
export type Channel = 'sms' | 'whatsapp' | 'email'

export interface Message {
  channel: Channel
  /** E.164 phone for sms/whatsapp, an address for email. */
  to: string
  subject: string
  text: string
}
