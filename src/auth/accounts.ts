import { randomInt, randomUUID } from 'node:crypto'
import { conflict, invalid } from '../errors.js'
import type { Account } from '../resources/index.js'
import { generateClientSecret, hashClientSecret, isClientSecretValid } from './client-secret.js'
import type { AuthCore } from './core.js'
import { loginKey, maskDestination, normalisePhone, parseLoginName } from './login-names.js'
import type { Channel } from './messaging/index.js'
import { generateOpaqueToken, hashOpaqueToken, hmac, safeEqual } from './opaque-tokens.js'

/** Sign-in throttling: per login name and per client address, then locked for a while. */
export const LOGIN_LOCKOUT = { maxFailures: 5, windowSeconds: 15 * 60, lockSeconds: 15 * 60 }
export const ADDRESS_LOCKOUT = { maxFailures: 20, windowSeconds: 15 * 60, lockSeconds: 15 * 60 }
export const OTP_TTL_SECONDS = 5 * 60
export const OTP_MAX_ATTEMPTS = 5
/** The window of the one-time code sending limit. */
export const OTP_SEND_WINDOW_SECONDS = 3600
export const MIN_PASSWORD_LENGTH = 10

export type SignInResult = { status: 'ok'; account: Account } | { status: 'invalid' } | { status: 'locked'; until: Date }
/** A code sent, or refused because too many went to the account or its destination this hour. */
export type CodeSent = { status: 'sent'; codeId: string; channel: Channel; destination: string } | { status: 'throttled'; retryAfterSeconds: number }
export type CodeCheck = { status: 'ok'; accountId: string } | { status: 'invalid' } | { status: 'expired' }

/**
 * Accounts and their credentials: scrypt passwords, sign-in with lockout, one-time codes over
 * WhatsApp/SMS/email, single-use password resets. Unknown accounts and wrong passwords take the
 * same time and give the same answer.
 */
export function createAccounts(core: AuthCore) {
  let decoyHash: Promise<string> | undefined

  return {
    async createAccount(input: { email?: string; phone?: string; password?: string; otpRequired?: boolean }): Promise<Account> {
      const email = input.email === undefined ? undefined : parseLoginName(input.email)?.email
      const phone = input.phone === undefined ? undefined : normalisePhone(input.phone)
      if (input.email !== undefined && !email) throw invalid('email is not a valid address')
      if (input.phone !== undefined && !phone) throw invalid('phone must be a phone number with 8 to 15 digits')
      if (!email && !phone) throw invalid('an account needs an email or a phone')
      if (input.password !== undefined) checkPassword(input.password)
      const row = {
        account_id: randomUUID(),
        email: email ?? null,
        phone: phone ?? null,
        password_hash: input.password === undefined ? null : await hashClientSecret(input.password),
        otp_required: input.otpRequired ?? false,
      }
      if (!(await core.accounts.insertAccount(row))) throw conflict('An account with this email or phone already exists')
      const account = await core.accounts.findAccount(row.account_id)
      if (!account) throw new Error('account vanished after insert')
      return account
    },

    async signIn(login: string, password: string, address: string): Promise<SignInResult> {
      const now = core.clock()
      const name = parseLoginName(login)
      const subjects = [`ip:${address}`, ...(name ? [loginKey(name)] : [])]
      const until = await core.credentials.lockedUntil(subjects, now)
      if (until) return { status: 'locked', until }
      const account = name ? await core.accounts.findAccountByLogin(name) : undefined
      const isValid = account?.password_hash && !account.disabled ? await isClientSecretValid(password, account.password_hash) : await decoy(password)
      if (account && isValid) {
        if (name) await core.credentials.clearFailures(loginKey(name))
        return { status: 'ok', account }
      }
      const results = await Promise.all([
        core.credentials.recordFailure(`ip:${address}`, now, ADDRESS_LOCKOUT),
        ...(name ? [core.credentials.recordFailure(loginKey(name), now, LOGIN_LOCKOUT)] : []),
      ])
      const lockedUntil = results.map((r) => r.lockedUntil).find((d) => d !== undefined)
      return lockedUntil ? { status: 'locked', until: lockedUntil } : { status: 'invalid' }
    },

    /**
     * Sends a 6-digit code; returns its id (to verify against) and where it went, masked. At most
     * `limits.otpSendsPerHour` codes per account and per destination in any hour: each costs a
     * message, and a flood would both bill the clinic and pester the person.
     */
    async sendOneTimeCode(account: Account, purpose: string, locale: 'es' | 'en'): Promise<CodeSent> {
      const channel: Channel = account.phone ? 'whatsapp' : 'email'
      const to = account.phone ?? account.email
      if (!to) throw invalid('The account has no phone or email to send a code to')
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
      const codeId = randomUUID()
      const now = core.clock()
      const row = {
        code_id: codeId,
        account_id: account.account_id,
        purpose,
        channel,
        destination: to,
        code_hash: hmac(core.secret, `${codeId}:${code}`),
        expires_at: new Date(now.getTime() + OTP_TTL_SECONDS * 1000),
      }
      const since = new Date(now.getTime() - OTP_SEND_WINDOW_SECONDS * 1000)
      const stored = await core.credentials.insertOneTimeCodeWithinLimit(row, now, since, core.limits.otpSendsPerHour)
      if (!stored.inserted) {
        const retryAfterSeconds = Math.max(1, Math.ceil((stored.oldest.getTime() + OTP_SEND_WINDOW_SECONDS * 1000 - now.getTime()) / 1000))
        return { status: 'throttled', retryAfterSeconds }
      }
      const text = locale === 'es' ? `Tu código de Segimed es ${code}. Vence en 5 minutos.` : `Your Segimed code is ${code}. It expires in 5 minutes.`
      await core.messenger.send({ channel, to, subject: locale === 'es' ? 'Código de acceso' : 'Sign-in code', text })
      return { status: 'sent', codeId, channel, destination: maskDestination(to) }
    },

    /** At most OTP_MAX_ATTEMPTS tries per code, within OTP_TTL_SECONDS; a right code works once. */
    async verifyOneTimeCode(codeId: string, code: string): Promise<CodeCheck> {
      const now = core.clock()
      const row = await core.credentials.tryOneTimeCode(codeId, now, OTP_MAX_ATTEMPTS)
      if (!row) return { status: 'expired' }
      if (!/^\d{6}$/.test(code.trim()) || !safeEqual(hmac(core.secret, `${codeId}:${code.trim()}`), row.code_hash)) return { status: 'invalid' }
      if (!(await core.credentials.consumeOneTimeCode(codeId, now))) return { status: 'expired' }
      if (row.channel !== 'email') await core.accounts.updateAccount(row.account_id, { phone_verified_at: now })
      return { status: 'ok', accountId: row.account_id }
    },

    /** Sends a reset link when the account exists; answers the same either way. */
    async requestPasswordReset(login: string, locale: 'es' | 'en'): Promise<void> {
      const name = parseLoginName(login)
      const account = name ? await core.accounts.findAccountByLogin(name) : undefined
      if (!account || account.disabled) return
      const token = generateOpaqueToken()
      await core.credentials.insertPasswordReset({
        token_hash: hashOpaqueToken(token),
        account_id: account.account_id,
        expires_at: new Date(core.clock().getTime() + core.lifetimes.passwordReset * 1000),
      })
      const link = `${core.issuer}/account/reset?token=${token}`
      const text = locale === 'es' ? `Para elegir una nueva contraseña abre ${link} (vence en 30 minutos).` : `To choose a new password open ${link} (expires in 30 minutes).`
      const channel: Channel = account.email ? 'email' : 'sms'
      const to = account.email ?? account.phone ?? ''
      await core.messenger.send({ channel, to, subject: locale === 'es' ? 'Nueva contraseña' : 'Password reset', text })
    },

    /** Single use and expiring; a password too short is refused before the token is spent. */
    async resetPassword(token: string, password: string): Promise<boolean> {
      checkPassword(password)
      const accountId = await core.credentials.consumePasswordReset(hashOpaqueToken(token), core.clock())
      if (!accountId) return false
      await core.accounts.updateAccount(accountId, { password_hash: await hashClientSecret(password) })
      return true
    },

    async setPassword(accountId: string, password: string): Promise<void> {
      checkPassword(password)
      await core.accounts.updateAccount(accountId, { password_hash: await hashClientSecret(password) })
    },
  }

  async function decoy(password: string): Promise<false> {
    decoyHash ??= hashClientSecret(generateClientSecret())
    await isClientSecretValid(password, await decoyHash)
    return false
  }
}

export type Accounts = ReturnType<typeof createAccounts>

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw invalid(`A password needs at least ${MIN_PASSWORD_LENGTH} characters`)
  if (password.length > 256) throw invalid('A password may have at most 256 characters')
}
