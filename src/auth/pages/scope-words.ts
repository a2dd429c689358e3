import { parseScope, splitScope, type ScopeLetter } from '../scopes.js'
import type { Locale } from './i18n.js'

/** The requested scopes in plain words for the consent page, one line each. */
export function describeScopes(scope: string, locale: Locale): string[] {
  const lines: string[] = []
  for (const s of splitScope(scope)) {
    const line = describeScope(s, locale)
    if (line && !lines.includes(line)) lines.push(line)
  }
  return lines
}

const CONTEXT_WORDS: Record<Locale, Record<string, string>> = {
  en: {
    openid: 'Confirm who you are',
    fhirUser: 'Know who you are in this clinic',
    profile: 'Know who you are in this clinic',
    launch: 'Open with the patient or visit that is selected',
    'launch/patient': 'Know which patient is selected',
    'launch/encounter': 'Know which visit is selected',
    offline_access: 'Keep access after you close the app, until you revoke it',
    online_access: 'Keep access while you stay signed in',
  },
  es: {
    openid: 'Confirmar quién eres',
    fhirUser: 'Saber quién eres en esta clínica',
    profile: 'Saber quién eres en esta clínica',
    launch: 'Abrirse con el paciente o la consulta seleccionados',
    'launch/patient': 'Saber qué paciente está seleccionado',
    'launch/encounter': 'Saber qué consulta está seleccionada',
    offline_access: 'Mantener el acceso después de cerrar la aplicación, hasta que lo revoques',
    online_access: 'Mantener el acceso mientras tengas la sesión iniciada',
  },
}

const VERBS: Record<Locale, Record<ScopeLetter, string>> = {
  en: { c: 'create', r: 'read', u: 'change', d: 'delete', s: 'search' },
  es: { c: 'crear', r: 'ver', u: 'modificar', d: 'eliminar', s: 'buscar' },
}

const WHOSE: Record<Locale, Record<string, string>> = {
  en: { patient: "the patient's", user: 'the clinic records you can use:', system: 'all the clinic records:' },
  es: { patient: 'del paciente:', user: 'de la clínica a los que tienes acceso:', system: 'de toda la clínica:' },
}

function describeScope(scope: string, locale: Locale): string | undefined {
  const context = CONTEXT_WORDS[locale][scope]
  if (context) return context
  const grant = parseScope(scope)
  if (!grant) return undefined
  const verbs = (['r', 's', 'c', 'u', 'd'] as const).filter((l) => grant.interactions.has(l)).map((l) => VERBS[locale][l])
  const joined = verbs.length > 1 ? `${verbs.slice(0, -1).join(', ')} ${locale === 'es' ? 'y' : 'and'} ${verbs[verbs.length - 1]}` : (verbs[0] ?? '')
  const what = grant.resourceType === '*' ? (locale === 'es' ? 'todos los datos' : 'all data') : grant.resourceType
  const filter = grant.filter ? ` (${grant.filter.map((f) => `${f.name} = ${f.values.join(locale === 'es' ? ' o ' : ' or ')}`).join(', ')})` : ''
  const head = joined.charAt(0).toUpperCase() + joined.slice(1)
  return locale === 'es' ? `${head} ${what} ${WHOSE.es[grant.context]}`.replace(/:$/, '') + filter : `${head} ${WHOSE.en[grant.context]} ${what}${filter}`
}
