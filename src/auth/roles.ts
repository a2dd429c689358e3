import type { MembershipRole } from '../resources/index.js'

/**
 * What each role of the original platform may be granted, as SMART scopes. A user token gets
 * requested ∩ registered-for-the-client ∩ this. Patients only ever get `patient/` scopes, so
 * their tokens are always held to their own compartment.
 */
const CONTEXT_SCOPES = 'openid fhirUser profile launch launch/patient launch/encounter offline_access online_access'

const ROLE_RESOURCE_SCOPES: Readonly<Record<MembershipRole, string>> = {
  'super-admin': 'user/*.cruds patient/*.cruds',
  'tenant-admin': 'user/*.cruds patient/*.cruds',
  physician: 'user/*.cruds patient/*.cruds',
  // Reception: people, scheduling and messages; clinical records read-only.
  secretary: [
    'user/Patient.cruds user/RelatedPerson.cruds user/Appointment.cruds user/AppointmentResponse.cruds user/Slot.cruds',
    'user/Schedule.rs user/Practitioner.rs user/PractitionerRole.rs user/Organization.rs user/Location.rs user/HealthcareService.rs',
    'user/Encounter.rs user/Communication.crs user/Coverage.cruds user/Observation.rs user/Condition.rs',
    'patient/Patient.rs patient/Appointment.cruds patient/Encounter.rs',
  ].join(' '),
  // Own data: read everything, record vitals and self-evaluations, book and message.
  patient: 'patient/*.rs patient/Observation.cru patient/QuestionnaireResponse.cru patient/Appointment.cru patient/Communication.cr',
}

export const MEMBERSHIP_ROLES: readonly MembershipRole[] = ['super-admin', 'tenant-admin', 'physician', 'secretary', 'patient']

export const isMembershipRole = (value: unknown): value is MembershipRole => MEMBERSHIP_ROLES.includes(value as MembershipRole)

export const roleScope = (role: MembershipRole): string => `${ROLE_RESOURCE_SCOPES[role]} ${CONTEXT_SCOPES}`

/** Roles that may administer a tenant (clients, memberships). */
export const isAdminRole = (role: string | undefined): boolean => role === 'tenant-admin' || role === 'super-admin'

/** Who may grant `target`: a super admin anything, a tenant admin anything but super admin. */
export function canGrantRole(granter: string | undefined, target: MembershipRole): boolean {
  if (granter === 'super-admin') return true
  return granter === 'tenant-admin' && target !== 'super-admin'
}
