-- The marketing engine's campaigns (first part: definitions, versions, four eyes, the kill
-- switch). A campaign's definition is the JSON of its draft (src/marketing/model.ts); every save
-- is a version with its diff and author. Activation needs a second operator who confirms the
-- computed maximum exposure. Budgets and checkout discounts come with the next migration.

CREATE TABLE marketing_campaigns (
  id                   text COLLATE "C" PRIMARY KEY,
  name                 text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
  status               text NOT NULL CHECK (status IN ('draft', 'pending_approval', 'active', 'paused', 'ended')),
  version              integer NOT NULL CHECK (version >= 1),
  definition           jsonb NOT NULL,
  created_by           text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  -- Who wrote the version now in force, and who approved it (never the same operator).
  author_id            text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  approved_by          text COLLATE "C" REFERENCES operator_accounts (id),
  approved_at          timestamptz,
  approved_exposure_minor bigint CHECK (approved_exposure_minor >= 0),
  paused_reason        text,
  CHECK (approved_by IS NULL OR approved_by <> author_id),
  CHECK ((status = 'active') <= (approved_by IS NOT NULL))
);
CREATE INDEX marketing_campaigns_status ON marketing_campaigns (status, updated_at DESC);

CREATE TABLE marketing_campaign_versions (
  campaign_id  text COLLATE "C" NOT NULL REFERENCES marketing_campaigns (id),
  version      integer NOT NULL CHECK (version >= 1),
  definition   jsonb NOT NULL,
  -- [{path, before, after}], empty for the first version.
  diff         jsonb NOT NULL,
  author_id    text COLLATE "C" NOT NULL REFERENCES operator_accounts (id),
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (campaign_id, version)
);

-- One row: when on, no campaign discounts anything. Reading it failing counts as on (fail closed).
CREATE TABLE marketing_kill_switch (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  engaged     boolean NOT NULL,
  reason      text,
  changed_by  text COLLATE "C" REFERENCES operator_accounts (id),
  changed_at  timestamptz NOT NULL
);
