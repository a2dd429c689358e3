import { describe, expect, it } from 'vitest'
import { createMessenger } from '../../src/auth/messaging/index.js'

describe('createMessenger', () => {
  it('writes the message, code included, to the log when a channel has no credentials', async () => {
    const lines: { obj: object; msg?: string }[] = []
    const messenger = createMessenger({}, { info: (obj, msg) => lines.push({ obj, msg }), warn: () => {} })
    await messenger.send({ channel: 'whatsapp', to: '+5491100000000', subject: 'Code', text: 'Your Segimed code is 123456.' })
    await messenger.send({ channel: 'email', to: 'a@example.org', subject: 'Reset', text: 'Open http://x/reset' })
    expect(lines).toHaveLength(2)
    expect(lines[0]?.msg).toContain('123456')
    expect(lines[0]?.obj).toMatchObject({ channel: 'whatsapp', to: '+5491100000000' })
    expect(lines[1]?.msg).toContain('no email credentials')
  })
})
