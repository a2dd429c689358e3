/** The languages of the sign-in pages. */
export type Locale = 'es' | 'en'

/**
 * `ui_locales` (OpenID Connect, space-separated, in order of preference) wins over
 * Accept-Language; Spanish when either prefers it, English otherwise.
 */
export function pickLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): Locale {
  for (const tag of (uiLocales ?? '').split(/\s+/)) {
    const lang = tag.toLowerCase().split('-')[0]
    if (lang === 'es' || lang === 'en') return lang
  }
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean)
      return { lang: tag.toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q) }
    })
    .filter((l) => l.lang === 'es' || l.lang === 'en')
    .sort((a, b) => b.q - a.q)
  return ranked[0]?.lang === 'es' ? 'es' : 'en'
}

const TEXT = {
  en: {
    signInTitle: 'Sign in',
    login: 'Email or phone',
    password: 'Password',
    signIn: 'Sign in',
    forgot: 'Forgot your password?',
    badCredentials: 'The email, phone or password is not correct.',
    locked: 'Too many attempts. Try again in a few minutes.',
    otpTitle: 'Enter your code',
    otpSent: 'We sent a 6-digit code to',
    code: 'Code',
    verify: 'Verify',
    badCode: 'The code is not correct.',
    expiredCode: 'The code has expired or was tried too many times. Sign in again.',
    tooManyCodes: 'Too many codes were sent to you in the last hour. Try again later.',
    clinicTitle: 'Choose your clinic',
    clinicIntro: 'Your account belongs to several clinics. Which one do you want to use?',
    patientTitle: 'Choose a patient',
    patientIntro: 'Which patient is this app for?',
    filter: 'Name',
    search: 'Search',
    noPatients: 'No patients found.',
    consentTitle: 'Allow access?',
    consentIntro: 'wants to:',
    forPatient: 'Patient',
    allow: 'Allow',
    deny: 'Deny',
    errorTitle: 'This request cannot continue',
    continue: 'Continue',
    resetTitle: 'Choose a new password',
    resetRequestTitle: 'Reset your password',
    resetRequestDone: 'If an account matches, we sent it a link to choose a new password.',
    resetDone: 'Your password was changed. You can sign in now.',
    resetInvalid: 'This link is no longer valid. Ask for a new one.',
    newPassword: 'New password (10 characters or more)',
    send: 'Send',
    save: 'Save',
    notMember: 'Your account has no access to this clinic.',
  },
  es: {
    signInTitle: 'Iniciar sesión',
    login: 'Correo o teléfono',
    password: 'Contraseña',
    signIn: 'Entrar',
    forgot: '¿Olvidaste tu contraseña?',
    badCredentials: 'El correo, el teléfono o la contraseña no son correctos.',
    locked: 'Demasiados intentos. Vuelve a intentarlo en unos minutos.',
    otpTitle: 'Ingresa tu código',
    otpSent: 'Enviamos un código de 6 dígitos a',
    code: 'Código',
    verify: 'Verificar',
    badCode: 'El código no es correcto.',
    expiredCode: 'El código venció o se intentó demasiadas veces. Vuelve a iniciar sesión.',
    tooManyCodes: 'Se te enviaron demasiados códigos en la última hora. Vuelve a intentarlo más tarde.',
    clinicTitle: 'Elige tu clínica',
    clinicIntro: 'Tu cuenta pertenece a varias clínicas. ¿Cuál quieres usar?',
    patientTitle: 'Elige un paciente',
    patientIntro: '¿Para qué paciente es esta aplicación?',
    filter: 'Nombre',
    search: 'Buscar',
    noPatients: 'No se encontraron pacientes.',
    consentTitle: '¿Permitir el acceso?',
    consentIntro: 'quiere:',
    forPatient: 'Paciente',
    allow: 'Permitir',
    deny: 'Rechazar',
    errorTitle: 'No se puede continuar con esta solicitud',
    continue: 'Continuar',
    resetTitle: 'Elige una contraseña nueva',
    resetRequestTitle: 'Restablecer la contraseña',
    resetRequestDone: 'Si existe una cuenta, le enviamos un enlace para elegir una contraseña nueva.',
    resetDone: 'Tu contraseña cambió. Ya puedes iniciar sesión.',
    resetInvalid: 'Este enlace ya no es válido. Pide uno nuevo.',
    newPassword: 'Contraseña nueva (10 caracteres o más)',
    send: 'Enviar',
    save: 'Guardar',
    notMember: 'Tu cuenta no tiene acceso a esta clínica.',
  },
} as const

export type TextKey = keyof (typeof TEXT)['en']

export const t = (locale: Locale, key: TextKey): string => TEXT[locale][key]
