// Account: the user an API key belongs to (`/account`, `/users/~`).
import { forbidden } from '../../errors';
import { presentAccount } from '../present';
import { type ApiRouter } from '../router';

export function accountRoutes(api: ApiRouter): void {
  api.on('account', 'Info', (req) => ({ body: presentAccount(req.account) }));
  api.on('account', 'Info By User', (req) => {
    const who = req.params.account;
    if (who !== '~' && who !== req.account.id && who !== req.account.email)
      throw forbidden('You do not have access to this account.');
    return { body: presentAccount(req.account) };
  });
}
