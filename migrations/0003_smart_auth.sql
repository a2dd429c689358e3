-- SMART App Launch authorization server: accounts and their memberships in clinics, client
-- registrations, authorization codes, refresh tokens, launch contexts, sign-in throttling,
-- one-time codes, password resets, client-assertion replay and access-token revocation.
-- Tenant-scoped tables key on tenant_id first. Accounts and their credentials span clinics,
-- so they are server-wide. Secrets (codes, tokens) are stored only as SHA-256 hashes.

-- A person who signs in: email and/or phone, scrypt password hash.
CREATE TABLE account (
  account_id        text PRIMARY KEY,
  email             text,
  phone             text,
  password_hash     text,
  email_verified_at timestamptz,
  phone_verified_at timestamptz,
  -- Ask for a one-time code after the password (second factor).
  otp_required      boolean NOT NULL DEFAULT false,
  disabled          boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
CREATE UNIQUE INDEX account_email ON account (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX account_phone ON account (phone) WHERE phone IS NOT NULL;

-- An account in one clinic: its role there and its FHIR identity (Practitioner/x, Patient/y,
-- RelatedPerson/z).
CREATE TABLE membership (
  tenant_id   text NOT NULL REFERENCES tenant (tenant_id),
  account_id  text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('super-admin', 'tenant-admin', 'physician', 'secretary', 'patient')),
  fhir_user   text CHECK (fhir_user ~ '^(Practitioner|Patient|RelatedPerson)/[A-Za-z0-9.-]{1,64}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, account_id)
);
CREATE INDEX membership_account ON membership (account_id);

-- Client registrations: public, confidential with a secret, or confidential with a JWKS.
ALTER TABLE oauth_client ALTER COLUMN secret_hash DROP NOT NULL;
ALTER TABLE oauth_client
  ADD COLUMN client_type   text NOT NULL DEFAULT 'confidential-symmetric'
    CHECK (client_type IN ('public', 'confidential-symmetric', 'confidential-asymmetric')),
  ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
  ADD COLUMN jwks          text,
  ADD COLUMN jwks_uri      text,
  ADD COLUMN launch_uri    text,
  -- A first-party app of the platform (the patients' mobile app), usable in every clinic where
  -- the signed-in account has a membership: its authorize request names the server's FHIR root
  -- as `aud` and the person picks the clinic.
  ADD COLUMN all_tenants   boolean NOT NULL DEFAULT false;

-- Single-use authorization codes (RFC 6749 §4.1.2), looked up by hash at the token endpoint.
CREATE TABLE authorization_code (
  tenant_id       text NOT NULL REFERENCES tenant (tenant_id),
  code_hash       text NOT NULL,
  client_id       text NOT NULL,
  account_id      text NOT NULL,
  redirect_uri    text NOT NULL,
  scope           text NOT NULL,
  code_challenge  text NOT NULL,
  patient         text,
  encounter       text,
  fhir_user       text,
  role            text,
  nonce           text,
  auth_time       timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, code_hash)
);
CREATE UNIQUE INDEX authorization_code_hash ON authorization_code (code_hash);

-- Refresh tokens. Each use rotates the token inside its family; presenting a rotated token
-- again revokes the whole family (OAuth 2.0 Security BCP §4.14).
CREATE TABLE refresh_token (
  tenant_id   text NOT NULL REFERENCES tenant (tenant_id),
  token_hash  text NOT NULL,
  family_id   text NOT NULL,
  client_id   text NOT NULL,
  account_id  text,
  scope       text NOT NULL,
  patient     text,
  encounter   text,
  fhir_user   text,
  role        text,
  -- offline_access tokens outlive the sign-in; online_access ones end with it.
  offline     boolean NOT NULL,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, token_hash)
);
CREATE UNIQUE INDEX refresh_token_hash ON refresh_token (token_hash);
CREATE INDEX refresh_token_family ON refresh_token (tenant_id, family_id);

-- EHR launch contexts, registered by the EHR and passed to the app as `launch`.
CREATE TABLE launch_context (
  tenant_id   text NOT NULL REFERENCES tenant (tenant_id),
  launch_id   text NOT NULL,
  client_id   text,
  patient     text,
  encounter   text,
  created_by  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, launch_id)
);

-- Sign-in failures per subject ('login:<name>' or 'ip:<address>'), for throttling and lockout.
CREATE TABLE login_lockout (
  subject           text PRIMARY KEY,
  failures          integer NOT NULL,
  window_started_at timestamptz NOT NULL,
  locked_until      timestamptz
);

-- One-time codes (6 digits, hashed) sent over WhatsApp, SMS or email.
CREATE TABLE one_time_code (
  code_id      text PRIMARY KEY,
  account_id   text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  purpose      text NOT NULL,
  channel      text NOT NULL,
  destination  text NOT NULL,
  code_hash    text NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX one_time_code_account ON one_time_code (account_id, created_at);

-- Password reset tokens: single use, expiring, stored hashed.
CREATE TABLE password_reset (
  token_hash  text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES account (account_id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- `jti`s of client assertions already accepted (private_key_jwt), kept until they expire.
CREATE TABLE used_jti (
  tenant_id   text NOT NULL,
  client_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, client_id, jti)
);

-- Revoked access tokens (RFC 7009) by jti, until they would have expired anyway.
CREATE TABLE revoked_token (
  tenant_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, jti)
);
CREATE INDEX revoked_token_revoked_at ON revoked_token (revoked_at);
