import { api } from './api.ts';

/** The social graph as the web app reads it: my friends and the groups I am in. */
export interface UserSummary {
  readonly userId: string;
  readonly displayName: string;
  readonly mobileMasked: string;
}

export interface GroupSummary {
  readonly id: string;
  readonly name: string;
  readonly memberCount: number;
}

/** One page of friends is enough for a picker: the API's page size is at most 100. */
export async function fetchFriends(): Promise<UserSummary[]> {
  return (await api<{ items: UserSummary[] }>('GET', '/v1/friends?limit=100')).items;
}

export async function fetchGroups(): Promise<GroupSummary[]> {
  return (await api<{ items: GroupSummary[] }>('GET', '/v1/groups?limit=100')).items;
}
