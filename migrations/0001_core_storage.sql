-- Core storage: tenants, current resource versions, append-only history, OAuth clients, signing keys.
-- Every tenant-scoped table keys on tenant_id first (Citus-ready, and isolation by construction).

CREATE TABLE tenant (
  tenant_id       text PRIMARY KEY,
  name            text NOT NULL,
  organization_id text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- The current version of every resource. `content` is the exact JSON text served on reads
-- (empty for a deleted resource).
CREATE TABLE resource (
  tenant_id     text NOT NULL REFERENCES tenant (tenant_id),
  resource_type text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  content       text NOT NULL,
  PRIMARY KEY (tenant_id, resource_type, id)
);
CREATE INDEX resource_last_updated ON resource (tenant_id, resource_type, last_updated);

-- Every version, including deletes; `seq` orders history newest-first and is the keyset for paging.
CREATE TABLE resource_history (
  tenant_id     text NOT NULL,
  resource_type text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  method        text NOT NULL,
  content       text NOT NULL,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, resource_type, id, version_id)
);
CREATE INDEX resource_history_system ON resource_history (tenant_id, seq);
CREATE INDEX resource_history_type ON resource_history (tenant_id, resource_type, seq);
CREATE INDEX resource_history_system_time ON resource_history (tenant_id, last_updated);

-- OAuth 2.0 clients (client_credentials for now; SMART registration later).
CREATE TABLE oauth_client (
  tenant_id    text NOT NULL REFERENCES tenant (tenant_id),
  client_id    text NOT NULL,
  name         text NOT NULL,
  secret_hash  text NOT NULL,
  scope        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, client_id)
);
-- client_id arrives at the token endpoint without a tenant, so it is unique server-wide.
CREATE UNIQUE INDEX oauth_client_client_id ON oauth_client (client_id);

-- Server-wide token signing keys (not tenant data).
CREATE TABLE signing_key (
  kid          text PRIMARY KEY,
  alg          text NOT NULL,
  private_jwk  text NOT NULL,
  public_jwk   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
