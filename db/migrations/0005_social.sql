-- Social graph: friend requests, friendships and groups. Red packets, cards and energy travel
-- along these later, so the hot reads (are A and B friends? is U in group G?) are primary-key
-- lookups.

-- A request moves pending → accepted | declined | cancelled exactly once.
CREATE TABLE social_friend_requests (
  id            text COLLATE "C" PRIMARY KEY,
  from_user_id  text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  to_user_id    text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  message       text CHECK (length(message) BETWEEN 1 AND 60),
  state         text NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled')),
  created_at    timestamptz NOT NULL,
  resolved_at   timestamptz,
  CHECK (from_user_id <> to_user_id),
  CHECK ((state = 'pending') = (resolved_at IS NULL))
);
-- At most one pending request per unordered pair, whoever sent it: a duplicate or a crossing
-- request that slipped past the service's pair lock still cannot create a second one.
CREATE UNIQUE INDEX social_friend_requests_pending_pair
  ON social_friend_requests (LEAST(from_user_id, to_user_id), GREATEST(from_user_id, to_user_id))
  WHERE state = 'pending';
CREATE INDEX social_friend_requests_incoming
  ON social_friend_requests (to_user_id, id) WHERE state = 'pending';
CREATE INDEX social_friend_requests_outgoing
  ON social_friend_requests (from_user_id, id) WHERE state = 'pending';

-- A friendship is two directed rows, so "my friends" is one index range and "are A and B
-- friends" one primary-key probe from either side.
CREATE TABLE social_friendships (
  user_id    text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  friend_id  text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  since      timestamptz NOT NULL,
  PRIMARY KEY (user_id, friend_id),
  CHECK (user_id <> friend_id)
);

-- A dissolved group keeps its row (later modules may point at it) but has no owner and no members.
CREATE TABLE social_groups (
  id            text COLLATE "C" PRIMARY KEY,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 30),
  owner_id      text COLLATE "C" REFERENCES identity_users (id),
  member_count  integer NOT NULL CHECK (member_count >= 0),
  created_by    text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  created_at    timestamptz NOT NULL,
  dissolved_at  timestamptz,
  CHECK ((owner_id IS NULL) = (dissolved_at IS NOT NULL)),
  CHECK ((member_count = 0) = (dissolved_at IS NOT NULL))
);

-- `seq` orders members by when they joined, ties included (the creator and the initial members
-- join in the same instant): the owner's successor is the member with the lowest seq.
CREATE TABLE social_group_members (
  group_id    text COLLATE "C" NOT NULL REFERENCES social_groups (id),
  user_id     text COLLATE "C" NOT NULL REFERENCES identity_users (id),
  seq         bigint GENERATED ALWAYS AS IDENTITY,
  invited_by  text COLLATE "C" REFERENCES identity_users (id),
  joined_at   timestamptz NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE UNIQUE INDEX social_group_members_user ON social_group_members (user_id, seq);
CREATE INDEX social_group_members_order ON social_group_members (group_id, seq);
