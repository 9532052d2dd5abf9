import type { Clock } from '../kernel/clock.ts';
import type { Sql } from '../kernel/db.ts';
import { DomainError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import './errors.ts';
import { banks, cardDisplayName, cardsPerUserMax, type BankCode } from './model.ts';
import {
  insertCard,
  isUniqueViolation,
  lockUserGuard,
  selectBoundCard,
  selectBoundCards,
  unbindCard,
  type CardRow,
} from './store.ts';

/**
 * Simulated bank cards: a bank from the fixed list and the last 4 digits. Every lookup names the
 * user, so another user's card is exactly as invisible as one that does not exist.
 */
export interface Card {
  readonly id: string;
  readonly bank: BankCode;
  readonly bankName: string;
  readonly last4: string;
  readonly createdAt: Date;
}

export interface CardDeps {
  readonly sql: Sql;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

function toCard(row: CardRow): Card {
  return {
    id: row.id,
    bank: row.bank,
    bankName: banks[row.bank],
    last4: row.last4,
    createdAt: row.created_at,
  };
}

export async function bindCard(
  deps: CardDeps,
  userId: string,
  input: { readonly bank: BankCode; readonly last4: string },
): Promise<Card> {
  const row = {
    id: deps.ids.next('card'),
    user_id: userId,
    bank: input.bank,
    last4: input.last4,
    created_at: deps.clock.now(),
  };
  try {
    await deps.sql.begin(async (tx) => {
      // The guard makes "count, then insert" one step, so the cap holds under concurrency.
      await lockUserGuard(tx, userId);
      if ((await selectBoundCards(tx, userId)).length >= cardsPerUserMax) {
        throw new DomainError('payments.card_limit_reached', {
          detail: `unbind a card first: at most ${String(cardsPerUserMax)} cards`,
        });
      }
      await insertCard(tx, row);
    });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError('payments.card_already_bound', {
        detail: `${cardDisplayName(input.bank, input.last4)} is already bound`,
      });
    throw error;
  }
  return toCard({ ...row, unbound_at: null });
}

export async function listCards(sql: Sql, userId: string): Promise<Card[]> {
  return (await selectBoundCards(sql, userId)).map(toCard);
}

/** Unbinding keeps the row (old bills name the card) and frees the number to be bound again. */
export async function unbindUserCard(
  deps: CardDeps,
  userId: string,
  cardId: string,
): Promise<void> {
  if (!(await unbindCard(deps.sql, userId, cardId, deps.clock.now()))) {
    throw new DomainError('payments.card_not_found', { detail: `no bound card ${cardId}` });
  }
}

export async function requireCard(sql: Sql, userId: string, cardId: string): Promise<CardRow> {
  const card = await selectBoundCard(sql, userId, cardId);
  if (card === undefined)
    throw new DomainError('payments.card_not_found', { detail: `no bound card ${cardId}` });
  return card;
}
